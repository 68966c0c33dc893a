"""Official documents as real .docx files (python-docx): the §11 letters."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

ISSUER = "清水县发展和改革局"
FONT = "仿宋"


@dataclass(frozen=True, slots=True)
class LetterDocument:
    """What a letter says."""

    title: str  # 工作提醒函 / 工作推进函 / 工作督办函
    number: str  # 清发改督函〔2026〕3号
    addressee: str
    project_code: str
    project_name: str
    facts: str
    request: str
    deadline: dt.date | None
    issued_on: dt.date
    issuer: str = ISSUER


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _run(paragraph, text: str, *, size: int = 16, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def letter_docx(letter: LetterDocument) -> bytes:
    """Render a letter as .docx bytes with number, date, addressee, facts and deadline."""
    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, letter.title, size=22, bold=True)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(number, letter.number)
    _run(doc.add_paragraph(), f"{letter.addressee}：")
    body = doc.add_paragraph()
    _run(
        body,
        f"经调度核查，你单位负责的“{letter.project_name}”（项目代码 {letter.project_code}）"
        f"存在以下情况：{letter.facts}",
    )
    ask = doc.add_paragraph()
    deadline = f"请于{_cn_date(letter.deadline)}前" if letter.deadline else "请尽快"
    _run(ask, f"{letter.request}{deadline}将整改落实情况书面报送县发改局。")
    _run(doc.add_paragraph(), "特此函告。")
    for text in (letter.issuer, _cn_date(letter.issued_on)):
        sign = doc.add_paragraph()
        sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(sign, text)
    out = io.BytesIO()
    doc.core_properties.title = f"{letter.title} {letter.number}"
    doc.save(out)
    return out.getvalue()
