"""Domain vocabularies shared by models, schemas and services (codes in English, labels in Chinese)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user does in the system."""

    ADMIN = "admin"  # 县发改局: owns the key-project list
    LEADER = "leader"  # 县级领导 / 包抓领导
    LAND_BUREAU = "land_bureau"  # 县自然资源局
    INSPECTOR = "inspector"  # 督查人员
    PROJECT_UNIT = "project_unit"  # 项目法人单位 / 行业主管部门
    TOWNSHIP = "township"  # 乡镇


class UnitKind(StrEnum):
    """Kinds of organisational unit."""

    DEPARTMENT = "department"  # 县直部门
    TOWNSHIP = "township"  # 乡镇人民政府
    LEGAL_PERSON = "legal_person"  # 项目法人单位
    LEADER_OFFICE = "leader_office"  # 县级领导办公室


class ProjectCategory(StrEnum):
    """§2: category by progress."""

    NEW_START = "new_start"  # 计划新开工
    CONTINUING = "continuing"  # 续建
    PREPARATORY = "preparatory"  # 预备


class ProjectStatus(StrEnum):
    """Construction status of a project."""

    NOT_STARTED = "not_started"  # 未开工
    UNDER_CONSTRUCTION = "under_construction"  # 在建
    COMPLETED = "completed"  # 已竣工
    SUSPENDED = "suspended"  # 停缓建


LABELS_ZH: dict[str, str] = {
    "admin": "发改局管理员",
    "leader": "县级领导",
    "land_bureau": "自然资源局",
    "inspector": "督查人员",
    "project_unit": "项目单位",
    "township": "乡镇",
    "department": "县直部门",
    "legal_person": "项目法人单位",
    "leader_office": "县级领导办公室",
    "new_start": "计划新开工",
    "continuing": "续建",
    "preparatory": "预备",
    "not_started": "未开工",
    "under_construction": "在建",
    "completed": "已竣工",
    "suspended": "停缓建",
    "county": "县列重点项目",
    "city_key": "市级重点投资项目",
    "city_major": "市级重大项目",
    "provincial_major": "省级重大项目",
    "none": "无",
    "county_registration": "县发改局节能登记",
    "city": "市发改委节能审查",
    "province": "省发改委节能审查",
    "social": "社会事业",
    "tech_renovation": "重大技术改造",
    "high_tech": "高科技产业",
}


def sql_in(values: type[StrEnum]) -> str:
    """Render an enum's values as a SQL ``IN (...)`` list for CHECK constraints."""
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"
