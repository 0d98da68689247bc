"""The instructions sheet (คำชี้แจง): how to open the file in each program, what to fill, units, the
deadline, how to send the form back and whom to call."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from cdd_scorer.geography import Area
from cdd_scorer.kpi import KpiSet
from cdd_scorer.metadata import template_file_name, template_id
from cdd_scorer.template.grid import ENTRY_SHEET
from cdd_scorer.template.layout import Sheet, lines_height
from cdd_scorer.template.protection import protect_sheet
from cdd_scorer.template.style import Formats, TemplateOptions, page_header_footer
from cdd_scorer.thai import be_date, thai_digits, thai_long_date

INSTRUCTIONS_SHEET = "คำชี้แจง"
INSTRUCTIONS_WIDTH = 62
COLUMN_WIDTHS = {0: 2, 1: 4, 2: INSTRUCTIONS_WIDTH}  # a margin, the step numbers, the steps


def write_instructions_sheet(wb: Workbook, ws: Worksheet, formats: Formats, kpi_set: KpiSet, area: Area,
                             options: TemplateOptions) -> None:
    """Write the instructions sheet: a title, the numbered steps in Thai and English, the file's identity."""
    sheet = Sheet(wb, ws, formats, COLUMN_WIDTHS)
    f = formats
    ws.hide_gridlines(2)
    for col, width in COLUMN_WIDTHS.items():
        ws.set_column(col, col, width)
    title = f"คำชี้แจงการกรอกข้อมูล — {kpi_set.title_th}"
    ws.merge_range(0, 1, 0, 2, title, f["title"])
    sheet.grow(0, lines_height(title, INSTRUCTIONS_WIDTH, 20))
    sheet.merged(1, 1, 2,
                 f"จังหวัด{area.province_name_th} อำเภอ{area.district_name_th} · {kpi_set.position_th} · "
                 f"{kpi_set.round_th}",
                 f"{area.district_name_en}, {area.province_name_en} · {kpi_set.position_en} · {kpi_set.round_en}",
                 f["subtitle"], bold=True, width=INSTRUCTIONS_WIDTH, size=16)
    row = 3
    sheet.bilingual(row, 2, "วิธีกรอกและส่งแบบฟอร์ม", "How to fill in and send back this form", f["heading"], bold=True)
    row += 1
    for number, (thai, english) in enumerate(_steps(kpi_set, options), start=1):
        ws.write_string(row, 1, thai_digits(number) + ".", f["label"])
        sheet.bilingual(row, 2, thai, english, f["label"])
        row += 1
    row += 1
    file_line = (f"ไฟล์ / file: {template_file_name(area)} · รหัสแบบฟอร์ม / template id: "
                 f"{template_id(kpi_set, area)}")
    ws.merge_range(row, 1, row, 2, file_line, f["small"])
    sheet.set_heights()
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)
    ws.center_horizontally()
    page_header_footer(ws, kpi_set, area, options.font)
    protect_sheet(ws, options.password)


# First contact: a form that arrives by e-mail opens read-only, and nothing typed is taken until the
# officer allows editing; and a copy downloaded from elsewhere must stay .xlsx.
OPENING_STEPS = [
    ('เปิดไฟล์ด้วย Excel: ไฟล์ที่ได้จากอีเมลจะเปิดใน "มุมมองที่ได้รับการป้องกัน" (แถบสีเหลืองด้านบน พิมพ์อะไรไม่ได้) '
     'ให้กดปุ่ม "เปิดใช้งานการแก้ไข" บนแถบนั้นก่อนเริ่มกรอก',
     'In Excel, a file from an e-mail opens in Protected View (a yellow bar on top; nothing can be typed): '
     'click "Enable Editing" on that bar before you start.'),
    ('LibreOffice: ถ้ามีแถบ "เปิดแบบอ่านอย่างเดียว" ให้กด "แก้ไขเอกสาร" และเมื่อบันทึกให้เลือก '
     '"ใช้รูปแบบ Excel 2007-365!" · WPS Office: ถ้ามีแถบให้กด "เปิดใช้งานการแก้ไข" และบันทึกเป็น .xlsx · '
     "Google ชีต: เมื่อกรอกเสร็จให้เลือก ไฟล์ > ดาวน์โหลด > Microsoft Excel (.xlsx) แล้วส่งไฟล์ที่ดาวน์โหลด "
     "ไม่ต้องส่งลิงก์",
     'LibreOffice: if a "read-only" bar shows, click "Edit Document", and when saving choose '
     '"Use Excel 2007-365!". WPS Office: click "Enable Editing" if a bar shows, and save as .xlsx. '
     "Google Sheets: when done, File > Download > Microsoft Excel (.xlsx), and send that file, not a link."),
]


def _steps(kpi_set: KpiSet, opt: TemplateOptions) -> list[tuple[str, str]]:
    """The numbered steps, Thai and English: how to open the file, where to type, what, in which units, how
    to send, whom to ask."""
    deadline = (f"ภายในวันที่ {thai_long_date(opt.deadline)}" if opt.deadline
                else "ภายในวันที่จังหวัดกำหนด")
    deadline_en = f"by {opt.deadline:%d %B %Y}" if opt.deadline else "by the date the province sets"
    send_to = f"ทางอีเมล {opt.clerk_email}" if opt.clerk_email else "ตามช่องทางที่จังหวัดแจ้ง"
    send_to_en = f"by e-mail to {opt.clerk_email}" if opt.clerk_email else "the way the province asks"
    contact = " ".join(x for x in (opt.clerk_name, f"โทร {opt.clerk_phone}" if opt.clerk_phone else "",
                                   opt.clerk_email) if x) or "เจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด"
    contact_en = " ".join(x for x in (opt.clerk_name, f"phone {opt.clerk_phone}" if opt.clerk_phone else "",
                                      opt.clerk_email) if x) or "the provincial CD office"
    period = f"{be_date(kpi_set.fiscal_year_start)} – {be_date(kpi_set.fiscal_year_end)}"
    return [
        *OPENING_STEPS,
        (f'กรอกข้อมูลในแผ่นงาน "{ENTRY_SHEET}" เฉพาะช่องสีเหลือง ช่องอื่นถูกล็อกไว้ '
         "(ชี้ที่ช่องจะมีคำแนะนำ ถ้ากรอกผิดรูปแบบโปรแกรมจะเตือน)",
         f'Fill only the yellow cells of the sheet "{ENTRY_SHEET}"; every other cell is locked.'),
        ("กรอกข้อเท็จจริง (จำนวนเงิน จำนวน ใช่/ไม่ใช่ วันที่) ไม่ต้องคำนวณร้อยละหรือระดับเอง "
         "แบบฟอร์มคำนวณให้ และจังหวัดคิดคะแนนจากข้อมูลที่กรอก",
         "Enter facts (amounts, counts, yes/no, dates), never a percentage or a level."),
        ("หน่วย: จำนวนเงินเป็นบาท ทศนิยมไม่เกิน ๒ ตำแหน่ง ไม่ต้องพิมพ์คำว่า บาท หรือจุลภาค · "
         "จำนวนเป็นจำนวนเต็ม · ใช่/ไม่ใช่ เลือกจากรายการ · วันที่พิมพ์ วัน/เดือน/ปี พ.ศ. เช่น 31/8/2565 "
         f"(ปีงบประมาณ {period}) ช่องวันที่เว้นว่างได้ถ้ายังไม่ได้ดำเนินการ",
         "Units: money in baht (up to 2 decimals), whole counts, ใช่/ไม่ใช่ from the list, "
         "dates as day/month/BE year (31/8/2565); leave a date empty when it has not happened."),
        ('ช่อง "หมายเหตุ/หลักฐาน" ของแต่ละตัวชี้วัด ใส่คำอธิบาย เลขที่หนังสือ หรือลิงก์หลักฐาน (ไม่บังคับ)',
         "Each KPI has an optional note/evidence cell."),
        ("ช่องสีเขียวคำนวณอัตโนมัติ: ผลลัพธ์ ระดับที่ได้ คะแนน และท้ายแผ่นงานมีผลคะแนนเบื้องต้น "
         'กับรายการที่ยังไม่ได้กรอก ("ยังไม่ได้กรอก …") ตรวจให้ครบก่อนส่ง',
         "Green cells are computed as you type; the end of the sheet shows the score preview and "
         "what is still missing."),
        (f"บันทึกไฟล์ในรูปแบบเดิม (.xlsx) ไม่ต้องเปลี่ยนชื่อไฟล์ ไม่ต้องแปลงเป็น PDF แล้วส่งกลับ{send_to} "
         f"{deadline}",
         f"Save the file as it is (.xlsx, same name, not PDF) and send it back {send_to_en} {deadline_en}."),
        (f"สอบถาม: {contact}", f"Questions: {contact_en}"),
    ]
