"""Deterministic demo dataset: about 60 invented key projects of Qingshui County for list year 2026.

Pure Python (no database).  Everything here is fictional demo data: names of projects, companies
and leaders are invented, sites are placed inside the ILLUSTRATIVE township polygons of
``gis_data.reference_layers``.  The same seed always yields identical output.
"""

from __future__ import annotations

import datetime
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from gis_data.crs import AREA_SRID, STORAGE_SRID, reproject
from gis_data.reference_layers import Township, load_county, load_townships

DEFAULT_SEED = 2026
LIST_YEAR = 2026
COUNTY_CODE = "620521"
#: First and last month of the demo monthly reports.
REPORT_MONTHS = tuple(datetime.date(LIST_YEAR, m, 1) for m in range(1, 11))
#: Minimum distance of every site from the county edge, metres.
EDGE_CLEARANCE_M = 200.0
#: Site coordinates are rounded to this many decimals (about 1 cm).
SITE_DECIMALS = 7

CATEGORIES = ("new_start", "continuing", "preparatory")
CATEGORY_SHARES = {"new_start": 0.35, "continuing": 0.45, "preparatory": 0.20}
INDUSTRIES = (
    "交通",
    "水利",
    "能源",
    "农业",
    "工业",
    "社会事业",
    "城镇建设",
    "文化旅游",
    "生态环保",
    "商贸物流",
)
STATUSES = ("not_started", "under_construction", "completed", "suspended")
COUNTY_SEAT_TOWNSHIP = "永清镇"

DEMO_DEPARTMENTS: list[str] = [
    "清水县发展和改革局",
    "清水县自然资源局",
    "清水县交通运输局",
    "清水县水务局",
    "清水县住房和城乡建设局",
    "清水县教育局",
    "清水县卫生健康局",
    "清水县农业农村局",
    "清水县文化和旅游局",
    "清水县工业和信息化局",
    "清水县财政局",
    "清水县商务局",
    "天水市生态环境局清水分局",
]

DEMO_LEGAL_PERSON_UNITS: list[str] = [
    "清水县城市建设投资有限公司",
    "清水县交通建设投资有限公司",
    "清水县水务投资发展有限公司",
    "清水县农业产业发展有限公司",
    "清水县文化旅游投资有限公司",
    "清水县工业园区开发建设有限公司",
    "清水县人民医院",
    "天水某某新能源有限公司",
    "甘肃某某农业科技有限公司",
    "天水某某建材有限公司",
    "甘肃某某商贸物流有限公司",
]


@dataclass(frozen=True)
class DemoLeader:
    """An invented county leader in charge of projects (包抓县级领导)."""

    username: str
    full_name: str
    title: str


DEMO_LEADERS: list[DemoLeader] = [
    DemoLeader("leader_zhang", "张立军", "县委副书记、县长"),
    DemoLeader("leader_li", "李文斌", "县委常委、常务副县长"),
    DemoLeader("leader_wang", "王海燕", "县委常委、副县长"),
    DemoLeader("leader_zhao", "赵志刚", "副县长"),
    DemoLeader("leader_liu", "刘晓红", "副县长"),
    DemoLeader("leader_chen", "陈国栋", "副县长"),
    DemoLeader("leader_yang", "杨振华", "县委常委、宣传部部长"),
    DemoLeader("leader_ma", "马永成", "副县长"),
]


@dataclass(frozen=True)
class DemoProgress:
    """One monthly investment report (月投资进度) of a demo project."""

    month: datetime.date
    amount_yuan: Decimal
    note: str


@dataclass(frozen=True)
class DemoProject:
    """One invented key project with the five list items, its people and its site."""

    code: str
    name: str
    category: str
    industry: str
    township: str
    lead_unit: str
    responsible_units: tuple[str, ...]
    legal_person_unit: str
    leader: str
    content: str
    total_investment_yuan: Decimal
    annual_plan_yuan: Decimal
    threshold_exemption: str | None
    planned_start: datetime.date
    list_year: int
    energy_tce: float | None
    status: str
    site: BaseGeometry
    progress: tuple[DemoProgress, ...]


# --------------------------------------------------------------------------------------------
# Catalogue of project templates
# --------------------------------------------------------------------------------------------

_DEPT = {
    "发改": "清水县发展和改革局",
    "自然资源": "清水县自然资源局",
    "交通": "清水县交通运输局",
    "水务": "清水县水务局",
    "住建": "清水县住房和城乡建设局",
    "教育": "清水县教育局",
    "卫健": "清水县卫生健康局",
    "农业": "清水县农业农村局",
    "文旅": "清水县文化和旅游局",
    "工信": "清水县工业和信息化局",
    "财政": "清水县财政局",
    "商务": "清水县商务局",
    "生态": "天水市生态环境局清水分局",
}

_INDUSTRY_LEAD = {
    "交通": "交通",
    "水利": "水务",
    "能源": "发改",
    "农业": "农业",
    "工业": "工信",
    "社会事业": "教育",
    "城镇建设": "住建",
    "文化旅游": "文旅",
    "生态环保": "生态",
    "商贸物流": "商务",
}

#: National industry code (国民经济行业分类 major group) used in the project code, by industry.
_INDUSTRY_CODE = {
    "交通": "48",
    "水利": "76",
    "能源": "44",
    "农业": "01",
    "工业": "30",
    "社会事业": "83",
    "城镇建设": "47",
    "文化旅游": "78",
    "生态环保": "77",
    "商贸物流": "59",
}

_INDUSTRY_LEGAL = {
    "交通": (1,),
    "水利": (2,),
    "能源": (7,),
    "农业": (3, 8),
    "工业": (5, 9),
    "社会事业": (0,),
    "城镇建设": (0,),
    "文化旅游": (4,),
    "生态环保": (0, 2),
    "商贸物流": (10, 0),
}

_INDUSTRY_LEADERS = {
    "交通": ("leader_zhao", "leader_li"),
    "水利": ("leader_ma", "leader_chen"),
    "能源": ("leader_zhao", "leader_wang"),
    "农业": ("leader_chen", "leader_ma"),
    "工业": ("leader_wang", "leader_li"),
    "社会事业": ("leader_liu", "leader_wang"),
    "城镇建设": ("leader_li", "leader_wang"),
    "文化旅游": ("leader_yang", "leader_liu"),
    "生态环保": ("leader_ma", "leader_chen"),
    "商贸物流": ("leader_li", "leader_wang"),
}

#: Departments that commonly co-own a project (责任单位) besides the township government, by industry.
_SUPPORT_DEPTS = {
    "交通": ("自然资源", "财政", "发改"),
    "水利": ("自然资源", "财政", "农业"),
    "能源": ("自然资源", "发改", "工信"),
    "农业": ("自然资源", "财政", "水务"),
    "工业": ("自然资源", "生态", "发改"),
    "社会事业": ("自然资源", "财政", "住建"),
    "城镇建设": ("自然资源", "财政", "发改"),
    "文化旅游": ("自然资源", "交通", "发改"),
    "生态环保": ("自然资源", "财政", "水务"),
    "商贸物流": ("自然资源", "交通", "发改"),
}


@dataclass(frozen=True)
class _Template:
    """Recipe for one demo project; ``{town}`` in name/content is replaced by a township name."""

    name: str
    industry: str
    kind: str  # "line", "polygon" or "point"
    size: tuple[float, float]  # km for lines, hectares for polygons, ignored for points
    total_wan: tuple[int, int]  # total investment range, 10,000 yuan (万元)
    content: str
    works: str
    town: str | None = None
    lead: str | None = None
    ii: str | None = None
    cc: str = "01"  # 01 审批 (government), 02 核准, 03 备案 (enterprise)
    legal: int | None = None
    energy: tuple[float, float] | None = None
    annual_wan: int | None = None
    category: str | None = None
    leader: str | None = None
    exempt: bool = False
    quantities: dict[str, tuple[int, int]] = field(default_factory=dict)


_T = _Template

_CATALOGUE: tuple[_Template, ...] = (
    # 交通
    _T(
        "310国道清水段改线工程",
        "交通",
        "line",
        (6.0, 8.0),
        (108000, 116000),
        "按二级公路标准改线新建主线{km}公里，路基宽12米；配套建设大中桥{n}座、隧道1座及交通安全设施。",
        "road",
        town="红堡镇",
        annual_wan=26000,
        category="continuing",
        leader="leader_zhang",
        quantities={"n": (4, 7)},
    ),
    _T(
        "清水县城区至秦亭镇二级公路改建工程",
        "交通",
        "line",
        (5.0, 8.0),
        (32000, 42000),
        "改建二级公路{km}公里，路基宽10米，沥青混凝土路面；新建桥梁{n}座、涵洞{m}道。",
        "road",
        town="秦亭镇",
        quantities={"n": (2, 5), "m": (18, 40)},
    ),
    _T(
        "{town}农村公路提质改造工程",
        "交通",
        "line",
        (3.0, 6.0),
        (1200, 3200),
        "对{town}境内{n}条通村道路实施提质改造，改造里程{km}公里，路面加宽至5.5米并完善安防设施。",
        "road",
        quantities={"n": (3, 6)},
    ),
    _T(
        "{town}产业路建设项目",
        "交通",
        "line",
        (2.0, 5.0),
        (800, 2200),
        "新建四级产业路{km}公里，路面宽4.5米，配套建设错车道{n}处、涵洞{m}道。",
        "road",
        quantities={"n": (6, 12), "m": (8, 20)},
    ),
    _T(
        "清水县城南客运站建设项目",
        "交通",
        "polygon",
        (2.0, 4.0),
        (4200, 5600),
        "新建二级客运站一座，占地{mu}亩，建设站房{n}平方米及停车场、维修车间等配套设施。",
        "building",
        town="永清镇",
        quantities={"n": (3200, 5200)},
    ),
    _T(
        "牛头河红堡段跨河大桥及连接线工程",
        "交通",
        "line",
        (2.0, 3.0),
        (6800, 9200),
        "新建跨河大桥1座（长{n}米）及两岸连接线{km}公里，按城市次干路标准建设。",
        "road",
        town="红堡镇",
        quantities={"n": (180, 320)},
    ),
    _T(
        "山门镇旅游公路建设项目",
        "交通",
        "line",
        (4.0, 7.0),
        (10500, 14000),
        "新建三级旅游公路{km}公里，路基宽8.5米，配套建设观景台{n}处及沿线服务设施。",
        "road",
        town="山门镇",
        quantities={"n": (2, 4)},
    ),
    # 水利
    _T(
        "清水县城乡供水一体化工程",
        "水利",
        "line",
        (6.0, 8.0),
        (42000, 48000),
        "新建净水厂1座（日供水{n}万立方米），铺设输配水主管道{km}公里，覆盖城乡人口约{m}万人。",
        "pipe",
        town="永清镇",
        leader="leader_zhang",
        quantities={"n": (3, 5), "m": (18, 24)},
    ),
    _T(
        "牛头河清水城区段防洪治理工程",
        "水利",
        "line",
        (3.0, 5.0),
        (9800, 13500),
        "新建加固堤防{km}公里，配套建设护岸、排水涵闸{n}座及滨河步道。",
        "river",
        town="永清镇",
        quantities={"n": (4, 9)},
    ),
    _T(
        "{town}小型水库除险加固工程",
        "水利",
        "polygon",
        (3.0, 10.0),
        (900, 1600),
        "对坝体进行防渗加固，改建溢洪道、放水设施，水库库容约{n}万立方米。",
        "river",
        quantities={"n": (20, 80)},
    ),
    _T(
        "清水县高效节水灌溉工程（{town}片区）",
        "水利",
        "polygon",
        (20.0, 40.0),
        (2200, 3200),
        "发展高效节水灌溉面积{n}亩（核心区{mu}亩），新建蓄水池{m}座、铺设灌溉管道{k}公里。",
        "farm",
        quantities={"n": (8000, 15000), "m": (2, 5), "k": (25, 60)},
    ),
    _T(
        "{town}河道综合治理工程",
        "水利",
        "line",
        (2.5, 5.0),
        (1500, 3800),
        "治理河道{km}公里，新建护岸、清淤疏浚并建设拦砂坝{n}座。",
        "river",
        quantities={"n": (3, 8)},
    ),
    _T(
        "清水县农村供水保障工程（{town}片区）",
        "水利",
        "line",
        (3.0, 6.0),
        (1300, 2400),
        "新建蓄水池{n}座、铺设供水管网{km}公里，改善{m}个村的饮水条件。",
        "pipe",
        quantities={"n": (2, 6), "m": (8, 16)},
    ),
    # 能源
    _T(
        "秦亭镇10万千瓦光伏发电项目",
        "能源",
        "point",
        (0, 0),
        (44000, 48000),
        "建设100兆瓦农光互补光伏电站及110千伏升压站一座，配套建设集电线路和场内道路。",
        "pv",
        town="秦亭镇",
        cc="03",
        category="new_start",
        energy=(120.0, 300.0),
    ),
    _T(
        "清水县20万千瓦风电项目",
        "能源",
        "point",
        (0, 0),
        (128000, 136000),
        "安装单机容量6.25兆瓦风电机组32台，新建220千伏升压站一座及集电线路、检修道路。",
        "wind",
        town="山门镇",
        cc="02",
        annual_wan=42000,
        category="new_start",
        leader="leader_zhang",
        energy=(300.0, 600.0),
    ),
    _T(
        "清水县城区集中供热管网改造工程",
        "能源",
        "line",
        (3.0, 5.0),
        (7800, 9200),
        "改造一级供热管网{km}公里，新建换热站{n}座，新增供热面积{m}万平方米。",
        "pipe",
        town="永清镇",
        lead="住建",
        ii="44",
        legal=0,
        energy=(2600.0, 3800.0),
        quantities={"n": (6, 12), "m": (30, 60)},
    ),
    _T(
        "{town}新能源汇集站及送出线路工程",
        "能源",
        "polygon",
        (1.0, 2.0),
        (5800, 7200),
        "新建110千伏新能源汇集站一座，主变容量2×50兆伏安，架设110千伏送出线路{n}公里。",
        "substation",
        cc="02",
        quantities={"n": (12, 25)},
    ),
    _T(
        "清水县天然气管网延伸工程",
        "能源",
        "line",
        (4.0, 7.0),
        (4600, 5800),
        "铺设中压燃气管道{km}公里，建设调压站{n}座，新增用户约{m}户。",
        "pipe",
        town="白沙镇",
        cc="03",
        legal=0,
        quantities={"n": (2, 4), "m": (6000, 9000)},
    ),
    _T(
        "清水县屋顶分布式光伏整县推进项目",
        "能源",
        "point",
        (0, 0),
        (21000, 25000),
        "利用党政机关、学校、医院及农户屋顶建设分布式光伏{n}兆瓦。",
        "rooftop",
        town="永清镇",
        cc="03",
        quantities={"n": (40, 60)},
    ),
    _T(
        "清水县电动汽车充电基础设施建设项目",
        "能源",
        "point",
        (0, 0),
        (800, 1200),
        "在县城及重点乡镇建设充电站{n}座、充电桩{m}个。",
        "site",
        town="永清镇",
        cc="03",
        quantities={"n": (8, 14), "m": (120, 220)},
    ),
    # 农业
    _T(
        "清水县苹果标准化示范园建设项目（{town}）",
        "农业",
        "polygon",
        (25.0, 40.0),
        (1300, 2200),
        "建设矮化密植苹果示范园{mu}亩，配套水肥一体化设施及防雹网，辐射带动周边果园{n}亩。",
        "farm",
        quantities={"n": (3000, 6000)},
    ),
    _T(
        "清水县高标准农田建设项目（{town}）",
        "农业",
        "polygon",
        (30.0, 40.0),
        (1800, 2800),
        "建设高标准农田{n}亩（核心示范区{mu}亩），实施土地平整、田间道路和农田防护工程。",
        "farm",
        quantities={"n": (10000, 16000)},
    ),
    _T(
        "清水县肉牛养殖基地建设项目",
        "农业",
        "polygon",
        (8.0, 15.0),
        (2600, 3600),
        "新建标准化牛舍{n}栋、饲草料库及青贮窖，存栏肉牛{m}头。",
        "plant",
        town="金集镇",
        cc="03",
        legal=8,
        energy=(200.0, 500.0),
        quantities={"n": (8, 14), "m": (2000, 3500)},
    ),
    _T(
        "{town}设施蔬菜产业园建设项目",
        "农业",
        "polygon",
        (10.0, 25.0),
        (650, 1100),
        "新建日光温室{n}座、钢架大棚{m}座，配套建设分拣包装车间。",
        "farm",
        cc="03",
        quantities={"n": (60, 120), "m": (80, 160)},
    ),
    _T(
        "清水县中药材种植加工示范基地",
        "农业",
        "polygon",
        (15.0, 30.0),
        (1600, 2400),
        "建设中药材标准化种植基地{mu}亩及初加工车间{n}平方米。",
        "farm",
        town="黄门镇",
        cc="03",
        legal=8,
        quantities={"n": (1500, 3000)},
    ),
    _T(
        "清水县核桃产业提质增效项目（{town}）",
        "农业",
        "polygon",
        (20.0, 40.0),
        (700, 1200),
        "实施核桃低产园改造{n}亩，建设核桃初加工车间1处。",
        "farm",
        quantities={"n": (5000, 10000)},
    ),
    # 工业
    _T(
        "清水县年产30万吨新型建材生产线项目",
        "工业",
        "polygon",
        (10.0, 16.0),
        (26000, 31000),
        "建设年产30万吨新型干混砂浆及蒸压加气混凝土砌块生产线，新建生产车间{n}平方米。",
        "plant",
        town="红堡镇",
        cc="03",
        legal=9,
        ii="30",
        energy=(6200.0, 7400.0),
        quantities={"n": (18000, 26000)},
    ),
    _T(
        "清水县工业园区标准化厂房建设项目",
        "工业",
        "polygon",
        (6.0, 12.0),
        (13000, 17000),
        "新建标准化厂房{n}栋、建筑面积{m}万平方米，配套建设园区道路及供排水管网。",
        "building",
        town="红堡镇",
        ii="47",
        energy=(200.0, 450.0),
        quantities={"n": (6, 10), "m": (5, 9)},
    ),
    _T(
        "清水县农产品精深加工项目",
        "工业",
        "polygon",
        (4.0, 8.0),
        (8000, 10000),
        "建设果蔬精深加工生产线2条，年加工农产品{n}万吨，新建冷库{m}吨。",
        "plant",
        town="白驼镇",
        cc="03",
        legal=8,
        ii="13",
        energy=(1500.0, 2200.0),
        quantities={"n": (3, 6), "m": (5000, 10000)},
    ),
    _T(
        "清水县苹果醋饮品生产线建设项目",
        "工业",
        "polygon",
        (3.0, 6.0),
        (5200, 6800),
        "建设年产{n}万吨苹果醋饮品生产线及配套仓储设施。",
        "plant",
        town="王河镇",
        cc="03",
        legal=8,
        ii="15",
        energy=(1000.0, 1500.0),
        quantities={"n": (2, 4)},
    ),
    _T(
        "清水县中药材饮片加工项目",
        "工业",
        "polygon",
        (2.0, 5.0),
        (4000, 5200),
        "新建中药饮片生产车间{n}平方米，购置切片、烘干、包装设备{m}台（套）。",
        "plant",
        town="黄门镇",
        cc="03",
        legal=8,
        ii="27",
        energy=(400.0, 800.0),
        quantities={"n": (6000, 9000), "m": (40, 80)},
    ),
    _T(
        "清水县年产10万吨有机肥生产项目",
        "工业",
        "polygon",
        (3.0, 6.0),
        (3200, 4200),
        "建设年产10万吨生物有机肥生产线，配套建设发酵车间、原料堆场。",
        "plant",
        town="松树镇",
        cc="03",
        legal=8,
        ii="26",
        energy=(1800.0, 2600.0),
    ),
    _T(
        "清水县建筑垃圾资源化利用项目",
        "工业",
        "polygon",
        (2.0, 5.0),
        (2800, 3600),
        "建设年处理建筑垃圾{n}万吨的资源化利用生产线及再生骨料堆场。",
        "plant",
        town="草川铺镇",
        cc="03",
        legal=9,
        ii="42",
        energy=(600.0, 950.0),
        quantities={"n": (15, 30)},
    ),
    # 社会事业
    _T(
        "清水县人民医院住院楼建设项目",
        "社会事业",
        "polygon",
        (1.5, 3.0),
        (29000, 34000),
        "新建住院综合楼1栋，建筑面积{n}平方米，设置床位{m}张，配套医用气体、净化及智能化系统。",
        "building",
        town="永清镇",
        lead="卫健",
        legal=6,
        ii="84",
        energy=(700.0, 950.0),
        quantities={"n": (32000, 42000), "m": (400, 600)},
    ),
    _T(
        "清水县中医医院康复中心建设项目",
        "社会事业",
        "polygon",
        (1.0, 2.0),
        (10500, 13000),
        "新建康复中心楼1栋，建筑面积{n}平方米，设置康复床位{m}张。",
        "building",
        town="永清镇",
        lead="卫健",
        ii="84",
        energy=(300.0, 500.0),
        quantities={"n": (12000, 18000), "m": (150, 260)},
    ),
    _T(
        "清水县第三高级中学建设项目",
        "社会事业",
        "polygon",
        (8.0, 12.0),
        (24000, 28000),
        "新建教学楼、实验楼、学生宿舍及运动场，总建筑面积{n}平方米，办学规模{m}个班。",
        "building",
        town="永清镇",
        energy=(150.0, 300.0),
        quantities={"n": (52000, 68000), "m": (48, 72)},
    ),
    _T(
        "{town}中心小学教学楼建设项目",
        "社会事业",
        "polygon",
        (1.0, 2.0),
        (900, 1600),
        "新建教学综合楼1栋，建筑面积{n}平方米，配套室外运动场及附属设施。",
        "building",
        quantities={"n": (3000, 5200)},
    ),
    _T(
        "{town}卫生院改扩建项目",
        "社会事业",
        "polygon",
        (1.0, 1.5),
        (320, 460),
        "改扩建业务用房{n}平方米，购置DR、彩超等医疗设备{m}台（件）。",
        "building",
        lead="卫健",
        ii="84",
        exempt=True,
        quantities={"n": (1200, 2000), "m": (12, 30)},
    ),
    _T(
        "清水县村卫生室标准化建设项目（{town}）",
        "社会事业",
        "point",
        (0, 0),
        (220, 320),
        "新建和改造村卫生室{n}所，每所业务用房不少于80平方米，配齐基本医疗设备。",
        "building",
        lead="卫健",
        ii="84",
        exempt=True,
        quantities={"n": (8, 14)},
    ),
    _T(
        "{town}公办幼儿园建设项目",
        "社会事业",
        "polygon",
        (1.0, 1.5),
        (380, 480),
        "新建幼儿园教学用房{n}平方米，办学规模{m}个班，配套户外活动场地。",
        "building",
        exempt=True,
        quantities={"n": (1500, 2400), "m": (6, 9)},
    ),
    _T(
        "清水县养老服务中心建设项目",
        "社会事业",
        "polygon",
        (2.0, 4.0),
        (5800, 7200),
        "新建医养结合养老服务中心，建筑面积{n}平方米，设置养老床位{m}张。",
        "building",
        town="永清镇",
        lead="卫健",
        ii="85",
        energy=(150.0, 300.0),
        quantities={"n": (16000, 22000), "m": (260, 400)},
    ),
    _T(
        "清水县全民健身中心建设项目",
        "社会事业",
        "polygon",
        (3.0, 6.0),
        (9000, 11000),
        "新建全民健身综合馆{n}平方米、室外体育公园及配套停车场。",
        "building",
        town="永清镇",
        lead="文旅",
        ii="89",
        energy=(250.0, 450.0),
        quantities={"n": (9000, 14000)},
    ),
    # 城镇建设
    _T(
        "清水县城区老旧小区改造项目",
        "城镇建设",
        "polygon",
        (8.0, 20.0),
        (7200, 9000),
        "改造老旧小区{n}个、{m}户，实施管网更新、外墙保温、加装电梯及环境整治。",
        "building",
        town="永清镇",
        ii="47",
        quantities={"n": (18, 30), "m": (2200, 3600)},
    ),
    _T(
        "清水县城区雨污分流管网改造工程",
        "城镇建设",
        "line",
        (3.0, 6.0),
        (5800, 7400),
        "改造雨污分流管网{km}公里，新建检查井{n}座，同步恢复道路路面。",
        "pipe",
        town="永清镇",
        ii="78",
        quantities={"n": (280, 460)},
    ),
    _T(
        "清水县保障性租赁住房建设项目",
        "城镇建设",
        "polygon",
        (2.0, 4.0),
        (10500, 13000),
        "新建保障性租赁住房{n}套，建筑面积{m}万平方米，配套建设地下车库。",
        "building",
        town="永清镇",
        ii="47",
        energy=(100.0, 250.0),
        quantities={"n": (600, 900), "m": (4, 7)},
    ),
    _T(
        "清水县城北片区棚户区改造项目",
        "城镇建设",
        "polygon",
        (10.0, 20.0),
        (32000, 38000),
        "改造棚户区{n}户，新建安置住房{m}万平方米及配套道路、管网、绿化工程。",
        "building",
        town="永清镇",
        ii="47",
        leader="leader_li",
        energy=(200.0, 400.0),
        quantities={"n": (800, 1300), "m": (10, 16)},
    ),
    _T(
        "{town}集镇风貌提升工程",
        "城镇建设",
        "polygon",
        (4.0, 10.0),
        (800, 1500),
        "实施集镇街道立面改造{n}米、道路硬化及亮化、绿化工程，新建公厕{m}座。",
        "site",
        ii="78",
        quantities={"n": (800, 1600), "m": (2, 4)},
    ),
    _T(
        "清水县城区智慧停车场建设项目",
        "城镇建设",
        "polygon",
        (1.0, 2.5),
        (2400, 3200),
        "新建智慧停车场{n}处，设置停车泊位{m}个及充电车位。",
        "site",
        town="永清镇",
        ii="78",
        cc="03",
        quantities={"n": (3, 5), "m": (600, 900)},
    ),
    _T(
        "清水县城市生命线安全工程",
        "城镇建设",
        "line",
        (3.0, 5.0),
        (6600, 7800),
        "更新改造燃气、供水老旧管网{km}公里，建设城市生命线监测平台及传感设备{n}套。",
        "pipe",
        town="永清镇",
        ii="78",
        quantities={"n": (800, 1400)},
    ),
    # 文化旅游
    _T(
        "清水县轩辕文化旅游区提升工程",
        "文化旅游",
        "polygon",
        (20.0, 40.0),
        (13000, 16000),
        "提升改造景区游览步道{n}公里、游客服务中心及停车场，建设轩辕文化展陈馆。",
        "site",
        town="白沙镇",
        quantities={"n": (4, 9)},
    ),
    _T(
        "清水温泉康养度假区建设项目",
        "文化旅游",
        "polygon",
        (20.0, 40.0),
        (40000, 46000),
        "建设温泉康养中心、度假酒店及配套设施，总建筑面积{n}万平方米。",
        "building",
        town="王河镇",
        cc="03",
        legal=4,
        energy=(1200.0, 1800.0),
        quantities={"n": (6, 10)},
    ),
    _T(
        "秦亭镇秦文化遗址保护展示项目",
        "文化旅游",
        "polygon",
        (10.0, 25.0),
        (4600, 5800),
        "实施遗址本体保护、考古展示棚及游览步道建设，新建陈列馆{n}平方米。",
        "site",
        town="秦亭镇",
        ii="88",
        quantities={"n": (2000, 3500)},
    ),
    _T(
        "山门镇关山草原旅游基础设施建设项目",
        "文化旅游",
        "polygon",
        (25.0, 40.0),
        (7800, 9400),
        "新建游客服务中心、观景平台{n}处、木栈道{m}公里及生态停车场。",
        "site",
        town="山门镇",
        quantities={"n": (3, 6), "m": (3, 6)},
    ),
    _T(
        "{town}乡村旅游示范村建设项目",
        "文化旅游",
        "polygon",
        (5.0, 12.0),
        (700, 1100),
        "改造特色民宿{n}户，建设游客接待中心、乡村游步道及农耕体验园。",
        "site",
        quantities={"n": (15, 30)},
    ),
    # 生态环保
    _T(
        "清水县城区污水处理厂提标改造工程",
        "生态环保",
        "polygon",
        (2.0, 4.0),
        (5400, 6400),
        "将城区污水处理厂出水标准由一级B提升至一级A，扩建处理规模至{n}万立方米/日。",
        "plant",
        town="永清镇",
        lead="住建",
        legal=2,
        energy=(500.0, 850.0),
        quantities={"n": (2, 3)},
    ),
    _T(
        "清水县生活垃圾无害化处理场扩建工程",
        "生态环保",
        "polygon",
        (4.0, 8.0),
        (3800, 4600),
        "扩建垃圾填埋库区库容{n}万立方米，新建渗滤液处理站一座。",
        "plant",
        town="远门镇",
        lead="住建",
        energy=(150.0, 300.0),
        quantities={"n": (25, 45)},
    ),
    _T(
        "牛头河流域水土保持综合治理工程（{town}）",
        "生态环保",
        "polygon",
        (30.0, 40.0),
        (2600, 3600),
        "综合治理水土流失面积{n}平方公里，新修梯田{m}亩，营造水土保持林。",
        "land",
        lead="水务",
        quantities={"n": (12, 25), "m": (2000, 4000)},
    ),
    _T(
        "清水县国土绿化试点示范项目（{town}）",
        "生态环保",
        "polygon",
        (30.0, 40.0),
        (2200, 3000),
        "实施人工造林{n}亩、退化林修复{m}亩，配套建设防火通道。",
        "land",
        lead="自然资源",
        quantities={"n": (6000, 12000), "m": (3000, 6000)},
    ),
    _T(
        "{town}污水处理站建设项目",
        "生态环保",
        "polygon",
        (1.0, 1.5),
        (700, 1100),
        "新建日处理规模{n}立方米污水处理站1座，铺设收集管网{m}公里。",
        "plant",
        lead="住建",
        legal=2,
        energy=(30.0, 90.0),
        quantities={"n": (500, 1500), "m": (4, 9)},
    ),
    # 商贸物流
    _T(
        "清水县农产品冷链物流园建设项目",
        "商贸物流",
        "polygon",
        (8.0, 15.0),
        (15000, 17500),
        "新建冷库{n}吨、分拣交易中心及冷链配送中心，配套建设停车场和信息平台。",
        "building",
        town="红堡镇",
        cc="03",
        legal=10,
        energy=(900.0, 1400.0),
        quantities={"n": (20000, 30000)},
    ),
    _T(
        "清水县城乡电商物流配送中心建设项目",
        "商贸物流",
        "polygon",
        (2.0, 5.0),
        (4300, 5200),
        "建设电商物流分拣配送中心{n}平方米，建成乡村寄递物流服务站{m}个。",
        "building",
        town="永清镇",
        cc="03",
        legal=10,
        quantities={"n": (8000, 12000), "m": (120, 180)},
    ),
    _T(
        "清水县商贸综合体建设项目",
        "商贸物流",
        "polygon",
        (3.0, 6.0),
        (22000, 27000),
        "建设集购物、餐饮、休闲于一体的商贸综合体，总建筑面积{n}万平方米。",
        "building",
        town="永清镇",
        ii="51",
        cc="03",
        legal=10,
        energy=(800.0, 990.0),
        quantities={"n": (6, 9)},
    ),
    _T(
        "{town}农产品交易市场建设项目",
        "商贸物流",
        "polygon",
        (2.0, 5.0),
        (900, 1400),
        "新建农产品交易大棚{n}平方米、冷藏库{m}吨及市场管理用房。",
        "building",
        ii="51",
        quantities={"n": (3000, 6000), "m": (500, 1500)},
    ),
)

# --------------------------------------------------------------------------------------------
# Physical progress notes (形象进度), by kind of works, in stage order
# --------------------------------------------------------------------------------------------

_STAGES: dict[str, tuple[str, ...]] = {
    "road": (
        "完成施工便道及临时设施建设，开展路基清表",
        "路基土石方及涵洞施工",
        "路基基本成型，桥梁桩基施工",
        "路面基层施工，桥梁下部结构施工",
        "沥青混凝土面层铺筑及交安设施施工",
    ),
    "pipe": (
        "完成测量放线及管材进场，开展管沟开挖",
        "管沟开挖及管道铺设",
        "管道铺设及检查井砌筑",
        "管道主体基本完成，进行打压试验和路面恢复",
        "附属设施安装及管道冲洗消毒",
    ),
    "river": (
        "完成施工导流及基坑开挖",
        "堤防（坝体）基础及填筑施工",
        "护岸砌筑及清淤疏浚",
        "主体工程基本完成，进行附属设施施工",
        "坡面绿化及收尾工程",
    ),
    "building": (
        "完成场地平整及基础土方开挖",
        "桩基及基础筏板施工",
        "主体结构施工",
        "主体结构封顶，二次结构及安装工程施工",
        "装饰装修、室外管网及附属工程施工",
    ),
    "plant": (
        "完成场地平整及临时设施",
        "厂房（构筑物）基础施工",
        "主体结构及钢结构安装",
        "主体工程完工，设备安装",
        "生产线单机调试及配套工程施工",
    ),
    "pv": (
        "完成场区道路及场地平整",
        "光伏支架桩基施工",
        "支架及组件安装",
        "升压站主体完工，集电线路架设",
        "组件全部安装完成，进行并网调试",
    ),
    "rooftop": (
        "完成屋顶资源普查及荷载核查",
        "首批屋顶支架及组件安装",
        "组件安装及逆变器调试",
        "分批并网发电",
        "收尾工程及并网验收准备",
    ),
    "wind": (
        "检修道路及风机平台施工",
        "风机基础浇筑",
        "风机吊装，升压站土建施工",
        "集电线路架设，升压站电气设备安装",
        "风机陆续并网调试",
    ),
    "substation": (
        "完成站址场平及围墙施工",
        "主控楼及设备基础施工",
        "主控楼主体完工，线路基础浇筑",
        "铁塔组立，主变压器就位",
        "架线及电气调试",
    ),
    "farm": (
        "完成土地平整",
        "田间道路及灌溉管网施工",
        "苗木（种苗）栽植",
        "蓄水池、大棚等配套设施建设",
        "扫尾工程及管护",
    ),
    "land": (
        "完成整地",
        "造林（梯田）施工",
        "补植补造及防护设施施工",
        "主体工程完成，进行抚育管护",
        "自查验收准备",
    ),
    "site": (
        "完成场地平整及临时设施",
        "道路、管网等基础设施施工",
        "主体建筑（设施）施工",
        "景观绿化及配套设施施工",
        "收尾工程及设备调试",
    ),
}

_LAG_REASONS = (
    "受征地拆迁影响",
    "受建设资金到位不足影响",
    "受用地报批进度影响",
    "受施工图审查延误影响",
    "受雨季持续降雨影响",
    "受施工单位组织不力影响",
)
_NOT_STARTED_REASONS = (
    "用地报批手续办理中",
    "施工图设计及审查中",
    "施工招标准备中",
    "建设资金筹措中",
    "环评及能评手续办理中",
)
_SUSPENSION_REASONS = (
    "建设资金未到位，项目停工",
    "征地拆迁问题未解决，项目停工",
    "用地手续未完善，按要求停工整改",
    "施工合同纠纷，项目暂停施工",
)

#: Relative monthly construction intensity (northern winters slow building down).
_MONTH_WEIGHT = {
    1: 0.35,
    2: 0.35,
    3: 0.8,
    4: 1.1,
    5: 1.2,
    6: 1.2,
    7: 1.1,
    8: 1.1,
    9: 1.2,
    10: 1.1,
    11: 0.9,
    12: 0.5,
}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _wan(value: int) -> Decimal:
    """Convert an integer amount in 10,000 yuan (万元) to yuan."""
    return Decimal(value) * 10000


def _category_plan(rng: random.Random, templates: tuple[_Template, ...]) -> list[str]:
    """Assign categories to templates: fixed ones first, the rest shuffled to reach the target shares."""
    n = len(templates)
    target = {c: round(CATEGORY_SHARES[c] * n) for c in CATEGORIES}
    target["continuing"] += n - sum(target.values())
    fixed = Counter(t.category for t in templates if t.category)
    pool: list[str] = []
    for c in CATEGORIES:
        pool.extend([c] * max(0, target[c] - fixed[c]))
    rng.shuffle(pool)
    result = []
    for t in templates:
        result.append(t.category if t.category else pool.pop())
    return result


def _random_date(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    """A random date between ``first`` and ``last`` inclusive."""
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


class _SitePlacer:
    """Places random project sites inside a township, clear of the county edge."""

    def __init__(self) -> None:
        """Project the county and townships once into the planar CRS."""
        county = load_county()
        self.county_edge_xy = reproject(county, STORAGE_SRID, AREA_SRID).boundary
        self.townships = {t.name: t for t in load_townships()}
        self._prepared = {name: prep(t.geometry) for name, t in self.townships.items()}
        self._county_prepared = prep(county)
        self._xy = {n: reproject(t.geometry, STORAGE_SRID, AREA_SRID) for n, t in self.townships.items()}

    def _accept(self, township: str, geom_xy: BaseGeometry) -> BaseGeometry | None:
        """Return the rounded lon/lat site if it is valid, inside its township and clear of the edge."""
        if self.county_edge_xy.distance(geom_xy) < EDGE_CLEARANCE_M + 50.0:
            return None
        lonlat = reproject(geom_xy, AREA_SRID, STORAGE_SRID)
        site = shapely.transform(lonlat, lambda a: a.round(SITE_DECIMALS))
        if not site.is_valid or not self._prepared[township].contains(site):
            return None
        if not self._county_prepared.contains(site):
            return None
        return site

    def _random_point_xy(self, rng: random.Random, township: str) -> Point:
        """A uniformly random planar point inside the township."""
        geom = self._xy[township]
        minx, miny, maxx, maxy = geom.bounds
        while True:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if geom.contains(p):
                return p

    def point(self, rng: random.Random, township: str) -> Point:
        """A point site."""
        for _ in range(1000):
            site = self._accept(township, self._random_point_xy(rng, township))
            if site is not None:
                return site
        raise RuntimeError(f"cannot place a point in {township}")

    def polygon(self, rng: random.Random, township: str, hectares: float) -> Polygon:
        """A simple star-shaped polygon of ``hectares`` with 4-7 vertices."""
        for _ in range(1000):
            centre = self._random_point_xy(rng, township)
            n = rng.randint(4, 7)
            start = rng.uniform(0.0, 2 * math.pi)
            angles = [start + (i + rng.uniform(-0.25, 0.25)) * 2 * math.pi / n for i in range(n)]
            radii = [rng.uniform(0.8, 1.2) for _ in range(n)]
            unit = [(r * math.cos(a), r * math.sin(a)) for a, r in zip(angles, radii, strict=True)]
            scale = math.sqrt(hectares * 10000.0 / Polygon(unit).area)
            poly = Polygon([(centre.x + dx * scale, centre.y + dy * scale) for dx, dy in unit])
            site = self._accept(township, poly)
            if site is not None:
                return site
        raise RuntimeError(f"cannot place a {hectares} ha polygon in {township}")

    def line(self, rng: random.Random, township: str, length_km: float) -> LineString:
        """A gently bending polyline of about ``length_km`` (shortened, not below 2 km, if it won't fit)."""
        length_m = length_km * 1000.0
        while True:
            for _ in range(400):
                start = self._random_point_xy(rng, township)
                segments = rng.randint(3, 7)
                heading = rng.uniform(0.0, 2 * math.pi)
                coords = [(start.x, start.y)]
                for _ in range(segments):
                    heading += rng.uniform(-0.45, 0.45)
                    step = length_m / segments
                    x, y = coords[-1]
                    coords.append((x + step * math.cos(heading), y + step * math.sin(heading)))
                site = self._accept(township, LineString(coords))
                if site is not None:
                    return site
            if length_m <= 2000.0:
                raise RuntimeError(f"cannot place a line in {township}")
            length_m = max(2000.0, length_m * 0.85)


def _format_text(template: str, township: str, values: dict[str, object]) -> str:
    """Fill a name/content template."""
    return template.format(town=township, **values)


def _stage_note(works: str, fraction: float, length_km: float) -> str:
    """Physical progress note (形象进度) for a cumulative completion ``fraction`` of the annual plan."""
    stages = _STAGES[works]
    note = stages[min(int(fraction * len(stages)), len(stages) - 1)]
    done_km = length_km * min(fraction, 1.0)
    if done_km >= 0.1:
        note += f"，累计完成{done_km:.1f}公里"
    return note + f"，年度形象进度约{int(round(fraction * 20)) * 5}%"


def _progress(
    rng: random.Random,
    works: str,
    length_km: float,
    category: str,
    status: str,
    planned_start: datetime.date,
    annual: Decimal,
) -> tuple[DemoProgress, ...]:
    """Monthly reports 2026-01..2026-10 consistent with the status; cumulative never exceeds ``annual``."""
    if status == "not_started":
        if category == "preparatory":
            return ()
        reason = rng.choice(_NOT_STARTED_REASONS)
        return tuple(DemoProgress(m, Decimal(0), f"项目尚未开工，{reason}") for m in REPORT_MONTHS)

    start_month = 1 if planned_start.year < LIST_YEAR else planned_start.month
    remaining_weight = sum(_MONTH_WEIGHT[m] for m in range(start_month, 13))
    pace_kind = rng.choices(("on_pace", "moderate", "lagging"), weights=(50, 25, 25))[0]
    pace = {
        "on_pace": rng.uniform(0.92, 1.05),
        "moderate": rng.uniform(0.6, 0.85),
        "lagging": rng.uniform(0.1, 0.35),
    }[pace_kind]
    stop_month = 13
    if status == "completed":
        stop_month = rng.randint(max(start_month + 2, 6), 10)
        remaining_weight = sum(_MONTH_WEIGHT[m] for m in range(start_month, stop_month + 1))
        pace = rng.uniform(0.93, 1.0)
    elif status == "suspended":
        stop_month = rng.randint(min(start_month + 1, 9), 9)
    lag_reason = rng.choice(_LAG_REASONS)
    suspension = rng.choice(_SUSPENSION_REASONS)

    reports = []
    cumulative = Decimal(0)
    for month in REPORT_MONTHS:
        m = month.month
        if m < start_month:
            reports.append(DemoProgress(month, Decimal(0), "项目前期手续办理中，尚未开工"))
            continue
        if m > stop_month or (status == "suspended" and m == stop_month):
            note = "项目已完工，正在办理竣工验收" if status == "completed" else suspension
            reports.append(DemoProgress(month, Decimal(0), note))
            continue
        share = _MONTH_WEIGHT[m] / remaining_weight
        raw = float(annual) * share * pace * rng.uniform(0.75, 1.25)
        amount = Decimal(int(raw // 1000) * 1000)
        amount = max(Decimal(0), min(amount, annual - cumulative))
        amount = Decimal(int(amount // 1000) * 1000)
        cumulative += amount
        note = _stage_note(works, float(cumulative / annual) if annual else 0.0, length_km)
        if pace_kind == "lagging" and status == "under_construction" and m >= start_month + 1:
            note = f"{note}；{lag_reason}，进度滞后"
        if status == "completed" and m == stop_month:
            note = "项目主体工程全部完工"
        reports.append(DemoProgress(month, amount, note))
    return tuple(reports)


def _status(rng: random.Random, category: str, small: bool) -> str:
    """Random status fitting the category."""
    r = rng.random()
    if category == "continuing":
        if small and r < 0.15:
            return "completed"
        return "suspended" if r > 0.92 else "under_construction"
    if category == "new_start":
        if small and r < 0.08:
            return "completed"
        return "not_started" if r > 0.7 else "under_construction"
    return "under_construction" if r > 0.85 else "not_started"


def _planned_start(rng: random.Random, category: str, status: str) -> datetime.date:
    """Random planned start/resume date for the category and status."""
    if category == "continuing":
        year = rng.choice((2022, 2023, 2024, 2024, 2025, 2025, 2025))
        return _random_date(rng, datetime.date(year, 3, 1), datetime.date(year, 10, 31))
    if category == "new_start":
        if status == "not_started":
            return _random_date(rng, datetime.date(2026, 3, 1), datetime.date(2026, 11, 30))
        if status == "completed":
            return _random_date(rng, datetime.date(2026, 2, 15), datetime.date(2026, 4, 30))
        return _random_date(rng, datetime.date(2025, 11, 1), datetime.date(2026, 8, 31))
    if status == "not_started":
        return _random_date(rng, datetime.date(2026, 7, 1), datetime.date(2026, 12, 31))
    return _random_date(rng, datetime.date(2026, 6, 1), datetime.date(2026, 9, 15))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def demo_projects(seed: int = DEFAULT_SEED) -> list[DemoProject]:
    """Generate the demo key-project list for 2026; the same seed yields identical output."""
    rng = random.Random(seed)
    placer = _SitePlacer()
    township_names = [t.name for t in load_townships()]
    rural = [n for n in township_names if n != COUNTY_SEAT_TOWNSHIP]
    usage: Counter[str] = Counter()
    categories = _category_plan(rng, _CATALOGUE)
    used_codes: set[str] = set()
    used_names: set[str] = set()
    projects: list[DemoProject] = []

    for template, category in zip(_CATALOGUE, categories, strict=True):
        # Township: fixed, or the least used rural township whose name keeps the project name unique.
        if template.town:
            township = template.town
        else:
            candidates = [n for n in rural if _format_text(template.name, n, {}) not in used_names]
            least = min(usage[n] for n in candidates)
            township = rng.choice([n for n in candidates if usage[n] == least])
        usage[township] += 1
        name = _format_text(template.name, township, {})
        used_names.add(name)

        # Site.
        if template.kind == "line":
            site = placer.line(rng, township, rng.uniform(*template.size))
        elif template.kind == "polygon":
            site = placer.polygon(rng, township, rng.uniform(*template.size))
        else:
            site = placer.point(rng, township)
        site_xy = reproject(site, STORAGE_SRID, AREA_SRID)
        values: dict[str, object] = {k: rng.randint(*r) for k, r in sorted(template.quantities.items())}
        values["km"] = f"{site_xy.length / 1000.0:.1f}"
        values["mu"] = f"{site_xy.area / (10000.0 / 15.0):.0f}"
        content = _format_text(template.content, township, values)

        # Money, in 万元 then yuan.
        lo, hi = template.total_wan
        step = 10 if hi - lo >= 100 else 1
        total_wan = rng.randrange(lo, hi + 1, step)
        if template.annual_wan is not None:
            annual_wan = template.annual_wan
        else:
            if category == "preparatory":
                fraction = rng.uniform(0.15, 0.4)
            elif total_wan < 3000:
                fraction = rng.uniform(0.55, 1.0)
            else:
                fraction = rng.uniform(0.25, 0.6)
            annual_wan = int(total_wan * fraction)
            if not template.exempt:
                annual_wan = max(annual_wan, 200)
        annual_wan = min(annual_wan, total_wan)
        total = _wan(total_wan)
        annual = _wan(annual_wan)
        below = total < _wan(500) or annual < _wan(200)
        exemption = "social" if (template.exempt or below) else None

        status = _status(rng, category, small=total_wan < 3000)
        planned_start = _planned_start(rng, category, status)
        length_km = site_xy.length / 1000.0 if template.kind == "line" else 0.0
        progress = _progress(rng, template.works, length_km, category, status, planned_start, annual)

        # Project code: filing year, county, industry, approval type, serial.
        filing_year = min(planned_start.year, LIST_YEAR) - rng.choice((0, 0, 1))
        while True:
            code = (
                f"{filing_year}-{COUNTY_CODE}-{template.ii or _INDUSTRY_CODE[template.industry]}-"
                f"{template.cc}-{rng.randint(1, 999):06d}"
            )
            if code not in used_codes:
                used_codes.add(code)
                break

        # People and units.
        lead_key = template.lead or _INDUSTRY_LEAD[template.industry]
        lead_unit = _DEPT[lead_key]
        others = [_DEPT[k] for k in _SUPPORT_DEPTS[template.industry] if _DEPT[k] != lead_unit]
        responsible = [f"{township}人民政府"] if rng.random() < 0.85 else []
        responsible += rng.sample(others, rng.randint(0 if responsible else 1, 2))
        legal_index = template.legal
        if legal_index is None:
            legal_index = rng.choice(_INDUSTRY_LEGAL[template.industry])
        legal = DEMO_LEGAL_PERSON_UNITS[legal_index]
        leader = template.leader or rng.choice(_INDUSTRY_LEADERS[template.industry])
        energy = round(rng.uniform(*template.energy), 1) if template.energy else None

        projects.append(
            DemoProject(
                code=code,
                name=name,
                category=category,
                industry=template.industry,
                township=township,
                lead_unit=lead_unit,
                responsible_units=tuple(responsible),
                legal_person_unit=legal,
                leader=leader,
                content=content,
                total_investment_yuan=total,
                annual_plan_yuan=annual,
                threshold_exemption=exemption,
                planned_start=planned_start,
                list_year=LIST_YEAR,
                energy_tce=energy,
                status=status,
                site=site,
                progress=progress,
            )
        )
    return projects


def township_for(project: DemoProject) -> Township:
    """Return the (illustrative) township record of a demo project."""
    return next(t for t in load_townships() if t.name == project.township)
