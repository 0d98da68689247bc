"""Problems as data: one ``ProblemType`` per kind of problem, one ``Problem`` per occurrence.

Every message a clerk or officer reads comes from this catalogue, in Thai and English, with the
action to take. Problems are created where they are found and rendered by the writers (issues.csv,
the consolidated workbook, the terminal, correction workbooks) from the same objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from string import Formatter
from typing import Any

from cdd_scorer.thai import Severity


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem. ``action_*`` speaks to the clerk; ``district_action_*``, where given,
    to the district officer who reads it in a correction workbook (default: the clerk's action)."""

    code: str
    severity: Severity
    message_th: str
    message_en: str
    action_th: str = ""
    action_en: str = ""
    district_action_th: str = ""
    district_action_en: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))  # the catalogue spells it as text

    @cached_property
    def placeholders(self) -> frozenset[str]:
        """Every ``{name}`` its texts quote: what a ``Problem`` of this type must be given."""
        texts = (self.message_th, self.message_en, self.action_th, self.action_en, self.district_action_th,
                 self.district_action_en)
        return frozenset(name for text in texts for _, name, _, _ in Formatter().parse(text) if name)


def _types(*items: ProblemType) -> dict[str, ProblemType]:
    return {t.code: t for t in items}


CATALOGUE: dict[str, ProblemType] = _types(
    # ---- the file as a whole
    ProblemType("lock_file", "info",
                "ไฟล์ล็อกของ Office ({file}) ถูกข้าม", "Office lock file {file} skipped",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("not_spreadsheet", "warning",
                "ไฟล์ {file} ไม่ใช่ไฟล์ตารางคำนวณ ({detail}) จึงไม่ได้อ่าน",
                "{file} is not a spreadsheet ({detail}) and was not read",
                "ย้ายไฟล์นี้ออกจากโฟลเดอร์ input หรือขอไฟล์ Excel จากอำเภอ",
                "Move it out of the input folder, or ask the district for the Excel file"),
    ProblemType("empty_file", "error", "ไฟล์ {file} ว่างเปล่า (0 ไบต์)", "{file} is empty (0 bytes)",
                "ขอให้อำเภอส่งไฟล์ใหม่", "Ask the district to send the file again"),
    ProblemType("corrupt_file", "error",
                "ไฟล์ {file} เสียหายหรือไม่สมบูรณ์ เปิดอ่านไม่ได้ ({detail})",
                "{file} is damaged or incomplete and cannot be read ({detail})",
                "ขอให้อำเภอส่งไฟล์ใหม่", "Ask the district to send the file again"),
    ProblemType("encrypted_file", "error",
                "ไฟล์ {file} ถูกตั้งรหัสผ่าน จึงอ่านไม่ได้",
                "{file} is password-protected and cannot be read",
                "ขอให้อำเภอส่งไฟล์ที่ไม่ได้ตั้งรหัสผ่านเปิดไฟล์",
                "Ask the district for a copy without a password to open"),
    ProblemType("unsafe_file", "error",
                "ไฟล์ {file} มีลักษณะผิดปกติหรือใหญ่เกินกำหนด ({detail}) จึงไม่ได้เปิดอ่าน",
                "{file} looks unsafe or too large ({detail}) and was not opened",
                "ตรวจสอบไฟล์และขอให้อำเภอส่งแบบฟอร์มเดิมใหม่",
                "Check the file and ask the district to send the original form again"),
    ProblemType("not_spreadsheet_content", "error",
                "ไฟล์ {file} มีนามสกุล {suffix} แต่ข้างในเป็น{kind_th} ไม่ใช่แบบฟอร์ม Excel จึงไม่ได้อ่าน",
                "{file} is named {suffix} but holds {kind_en}, not an Excel workbook, and was not read",
                "ขอให้อำเภอส่งไฟล์แบบฟอร์ม Excel ที่กรอกแล้ว (ไฟล์ที่ได้รับจากจังหวัด) แทน{kind_th}",
                "Ask the district to send the filled-in Excel form (the file the province sent) instead of "
                "{kind_en}"),
    ProblemType("file_too_large", "error",
                "ไฟล์ {file} ใหญ่เกินกำหนด ({size} เกิน {limit}) จึงไม่ได้เปิดอ่าน",
                "{file} is too large ({size}, limit {limit}) and was not opened",
                "ขอให้อำเภอส่งแบบฟอร์มเดิมที่กรอกแล้ว โดยไม่แทรกรูปภาพหรือข้อมูลอื่น",
                "Ask the district to send the original form filled in, without pictures or other data"),
    ProblemType("decompression_bomb", "error",
                "ไฟล์ {file} เมื่อแตกออกจะใหญ่ผิดปกติ ({detail}) อาจเป็นไฟล์อันตราย จึงไม่ได้เปิดอ่าน",
                "{file} would expand to an abnormal size ({detail}); it may be hostile and was not opened",
                "อย่าเปิดไฟล์นี้ ขอให้อำเภอส่งแบบฟอร์มเดิมที่กรอกแล้วใหม่",
                "Do not open this file; ask the district to send its filled-in form again"),
    ProblemType("xml_entities", "error",
                "ไฟล์ {file} มีการประกาศ DOCTYPE/ENTITY ใน {member} ซึ่งแบบฟอร์ม Excel ไม่มี "
                "อาจเป็นไฟล์อันตราย จึงไม่ได้เปิดอ่าน",
                "{file} declares a DOCTYPE/ENTITY in {member}, which Excel workbooks never do; "
                "it may be hostile and was not opened",
                "อย่าเปิดไฟล์นี้ ขอให้อำเภอส่งแบบฟอร์มเดิมที่กรอกแล้วใหม่",
                "Do not open this file; ask the district to send its filled-in form again"),
    ProblemType("sheet_too_large", "error",
                "ไฟล์ {file}: แผ่นงาน {member} มีข้อมูลกระจายกว้างผิดปกติ ({extent} เกิน {limit} เซลล์) "
                "จึงไม่ได้เปิดอ่าน",
                "{file}: worksheet {member} spans an abnormal area ({extent}, over {limit} cells) and "
                "was not opened",
                "ขอให้อำเภอลบข้อมูลที่อยู่นอกแบบฟอร์ม หรือส่งแบบฟอร์มเดิมที่กรอกแล้วใหม่",
                "Ask the district to delete data outside the form, or to send its filled-in form again"),
    ProblemType("stray_cells_ignored", "warning",
                "ไฟล์ {file}: แผ่นงาน {sheet} มีข้อมูลอยู่นอกแบบฟอร์มไปจนถึงเซลล์ {last_cell} ({extent}) "
                "จึงอ่านเฉพาะช่องของแบบฟอร์ม ข้อมูลนอกแบบฟอร์มไม่ได้นำมาใช้",
                "{file}: worksheet {sheet} holds data outside the form as far as cell {last_cell} ({extent}); "
                "only the form's cells were read, the data outside it was ignored",
                "ไม่ต้องทำอะไร คะแนนคิดจากช่องของแบบฟอร์มตามปกติ",
                "Nothing to do: the form's cells were scored as usual",
                "ลบข้อมูลที่อยู่นอกแบบฟอร์ม (กด Ctrl+End จะไปที่เซลล์ {last_cell}) แล้วบันทึกไฟล์",
                "Delete the data outside the form (Ctrl+End goes to cell {last_cell}) and save the file"),
    ProblemType("read_timeout", "error",
                "อ่านไฟล์ {file} นานเกิน {seconds} วินาที จึงหยุดอ่านไฟล์นี้",
                "Reading {file} took more than {seconds} seconds and was stopped",
                "ขอให้อำเภอเปิดไฟล์แล้วบันทึกเป็น .xlsx ใหม่ แล้วส่งอีกครั้ง",
                "Ask the district to open the file, save it again as .xlsx and resend it"),
    ProblemType("reader_crashed", "error",
                "โปรแกรมอ่านไฟล์ {file} หยุดทำงานกะทันหัน ({detail}) ไฟล์อาจเสียหายหรือใช้หน่วยความจำเกิน "
                "{memory} ไฟล์อื่นยังอ่านตามปกติ",
                "The reader stopped abruptly on {file} ({detail}); the file may be damaged or need more "
                "than {memory} of memory. Other files were read as usual",
                "ขอให้อำเภอเปิดไฟล์แล้วบันทึกเป็น .xlsx ใหม่ แล้วส่งอีกครั้ง",
                "Ask the district to open the file, save it again as .xlsx and resend it"),
    ProblemType("read_failed", "error",
                "อ่านไฟล์ {file} ไม่สำเร็จ ({detail})", "{file} could not be read ({detail})",
                "ขอให้อำเภอบันทึกไฟล์ใหม่เป็น .xlsx แล้วส่งอีกครั้ง",
                "Ask the district to save it again as .xlsx and resend"),
    ProblemType("macro_workbook", "warning",
                "ไฟล์ {file} มีมาโคร: อ่านเฉพาะค่าในเซลล์ ไม่ได้เรียกใช้มาโคร",
                "{file} contains macros: only cell values were read, no macro was run",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("not_template", "error",
                "ไฟล์ {file} ไม่ใช่แบบฟอร์มที่สร้างโดย cdd-scorer",
                "{file} is not a template made by cdd-scorer",
                "ส่งแบบฟอร์มของอำเภอให้กรอกใหม่", "Send the district its template to fill in"),
    ProblemType("other_kpi_set", "error",
                "ไฟล์ {file} เป็นแบบฟอร์มของชุดตัวชี้วัดอื่น ({found}) ไม่ใช่ {expected}",
                "{file} is a template of another KPI card ({found}), not {expected}",
                "ส่งแบบฟอร์มรอบปัจจุบันให้อำเภอกรอกใหม่",
                "Send the district the template of this round",
                "กรอกข้อมูลในแบบฟอร์มฉบับปัจจุบันที่แนบมานี้ แล้วส่งกลับ",
                "Fill in the attached form of this round and send it back"),
    ProblemType("fingerprint_mismatch", "error",
                "ไฟล์ {file} สร้างจากตัวชี้วัดที่ต่างจากที่ใช้ประเมิน (ลายนิ้วมือ {found} ≠ {expected})",
                "{file} was made from a different version of the KPI card (fingerprint {found} ≠ {expected})",
                "สร้างแบบฟอร์มใหม่ด้วย cdd-scorer generate แล้วส่งให้อำเภอ",
                "Generate the templates again and send this district its new one",
                "ตรวจสอบข้อมูลในแบบฟอร์มฉบับใหม่ที่แนบมานี้ แล้วส่งกลับ",
                "Check the data in the attached new form and send it back"),
    ProblemType("province_not_in_folder", "warning",
                "ไม่พบแบบฟอร์มของจังหวัด{province} มีแต่ไฟล์ของจังหวัดอื่น: {found}",
                "no workbook of {province_en}; only files of other provinces: {found}",
                "ตรวจสอบ --province (หมายถึง --province {best} ?) หรือโฟลเดอร์ input",
                "Check --province (did you mean --province {best}?) or the input folder"),
    ProblemType("other_province", "info",
                "ไฟล์ {file} เป็นของจังหวัด {found} จึงไม่ได้นำมาคิดคะแนน (--province {expected})",
                "{file} belongs to province {found} and was not scored (--province {expected})",
                "ไม่ต้องทำอะไร หากตั้งใจประเมินเฉพาะจังหวัดนี้",
                "Nothing to do if only this province is being scored"),
    ProblemType("unknown_district", "error",
                "ไฟล์ {file} ระบุรหัสอำเภอ {found} ซึ่งไม่มีในทะเบียน",
                "{file} names district code {found}, which does not exist",
                "ส่งแบบฟอร์มของอำเภอให้กรอกใหม่", "Send the district its template to fill in"),
    ProblemType("layout_changed", "warning",
                "แบบฟอร์มถูกแก้ไขโครงสร้าง: ช่อง {field} ย้ายจาก {expected} ไป {found}",
                "The form's layout was edited: {field} moved from {expected} to {found}",
                "ตรวจสอบว่าค่าที่อ่านได้ถูกต้อง", "Check that the value read is right",
                "ตรวจสอบข้อมูลในแบบฟอร์มที่แนบมานี้ โดยไม่ย้ายแถว แล้วส่งกลับ",
                "Check the data in the attached form without moving rows, and send it back"),
    ProblemType("field_cell_missing", "error",
                "ไม่พบช่องกรอก {field} ในแบบฟอร์ม (แผ่นงานหรือแถวถูกลบ)",
                "The input cell of {field} is missing (a sheet or row was deleted)",
                "ส่งแบบฟอร์มของอำเภอให้กรอกใหม่", "Send the district its template to fill in",
                "กรอกข้อมูลในแบบฟอร์มที่แนบมานี้ โดยไม่ลบแถวหรือแผ่นงาน แล้วส่งกลับ",
                "Fill in the attached form without deleting rows or sheets, and send it back"),
    ProblemType("duplicate_identical", "info",
                "ไฟล์ {file} ซ้ำกับ {other} (ข้อมูลเหมือนกัน) จึงใช้เพียงไฟล์เดียว",
                "{file} repeats {other} (same data); one of them was used",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("duplicate_conflict", "error",
                "อำเภอนี้ส่งมา 2 ไฟล์ที่ข้อมูลต่างกัน: {file} และ {other} จึงยังไม่ได้ใช้ไฟล์ใดเลย",
                "This district sent two files with different data, {file} and {other}; neither was used",
                "ลบไฟล์ที่ไม่ใช้ออกจากโฟลเดอร์ input (เวลาบันทึกในไฟล์และวันที่ของอีเมลบอกไม่ได้ว่าไฟล์ใดส่งทีหลัง "
                "หรือใช้ตัวเลือก --prefer error อยู่)",
                "Remove the file that is not wanted from the input folder (neither the saved times in the files "
                "nor the e-mail dates tell which came later, or --prefer error was given)",
                "ตรวจสอบข้อมูลในไฟล์แนบนี้ (ฉบับที่บันทึกล่าสุด) แก้ไขให้ถูกต้อง แล้วส่งกลับเพียงไฟล์เดียว",
                "Check the attached copy (the latest saved), correct it and send back only this file"),
    ProblemType("duplicate_corrected", "info",
                "ไฟล์ {file} ถูกแทนด้วย {other} ซึ่งเป็นแบบฟอร์มแก้ไขที่ทำจากไฟล์นี้และอำเภอส่งกลับมา",
                "{file} was superseded by {other}, the correction workbook made from it and sent back",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("duplicate_superseded", "info",
                "ไฟล์ {file} (บันทึกเมื่อ {saved}) ถูกแทนด้วย {other} ที่บันทึกภายหลัง ({other_saved})",
                "{file} (saved {saved}) was superseded by {other}, saved later ({other_saved})",
                "ไม่ต้องทำอะไร หากต้องการใช้ {file} ให้ย้าย {other} ออกจากโฟลเดอร์ input",
                "Nothing to do; to use {file} instead, move {other} out of the input folder"),
    ProblemType("duplicate_mailed_later", "info",
                "ไฟล์ {file} (อีเมลวันที่ {mailed}) ถูกแทนด้วย {other} ที่ส่งทางอีเมลภายหลัง ({other_mailed})",
                "{file} (e-mailed {mailed}) was superseded by {other}, e-mailed later ({other_mailed})",
                "ไม่ต้องทำอะไร หากต้องการใช้ {file} ให้ย้าย {other} ออกจากโฟลเดอร์ input",
                "Nothing to do; to use {file} instead, move {other} out of the input folder"),
    ProblemType("missing_submission", "info",
                "ยังไม่ได้รับแบบฟอร์มของอำเภอนี้", "No workbook has been received from this district",
                "ติดตามให้อำเภอส่งแบบฟอร์ม", "Ask the district to send its workbook"),
    # ---- collecting e-mail attachments (cdd-scorer collect)
    ProblemType("attachment_saved", "info",
                "บันทึก {file} เป็น {saved}", "saved {file} as {saved}"),
    ProblemType("attachment_duplicate", "info",
                "{file} มีเนื้อหาเหมือนกับ {other} ที่อยู่ในโฟลเดอร์ input แล้ว จึงไม่บันทึกซ้ำ",
                "{file} has the same content as {other}, already in the input folder; not saved again",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("attachment_not_spreadsheet", "info",
                "{file} ไม่ใช่ไฟล์ตารางคำนวณ ({detail}) จึงไม่ได้นำเข้า",
                "{file} is not a spreadsheet ({detail}) and was not collected",
                "หากอำเภอส่งแบบรายงานมาเป็นไฟล์อื่น ให้ขอไฟล์ Excel",
                "If the district sent its report in another format, ask for the Excel file"),
    ProblemType("not_mail", "warning",
                "{file} ไม่ใช่อีเมล (.eml .msg) mbox zip หรือไฟล์ตารางคำนวณ จึงข้าม",
                "{file} is not an e-mail (.eml, .msg), mbox, zip or spreadsheet; skipped",
                "บันทึกอีเมลเป็นไฟล์ .eml หรือ .msg (ลากอีเมลจาก Outlook ไปวางในโฟลเดอร์) แล้วสั่งใหม่",
                "Save the e-mails as .eml or .msg files (drag them from Outlook into a folder) and run again"),
    ProblemType("attachment_recorded", "info",
                "{file} อยู่ในโฟลเดอร์ input แล้วเป็น {saved} แต่ยังไม่มีในบันทึกการรวบรวม (ครั้งก่อนเขียนบันทึกไม่ได้) "
                "จึงบันทึกไว้ตอนนี้ ไม่บันทึกไฟล์ซ้ำ",
                "{file} is already in the input folder as {saved} but was missing from the collection log "
                "(an earlier run could not write it); recorded now, not saved again",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("attachment_blank_template", "warning",
                "{file} เป็นแบบฟอร์มเปล่าที่ส่งกลับมาโดยยังไม่ได้กรอกข้อมูล จึงไม่ได้นำเข้า",
                "{file} is a blank entry template returned empty (no value entered); not collected",
                "ขอให้อำเภอกรอกแบบฟอร์มแล้วส่งกลับมาใหม่",
                "Ask the district to fill in the form and send it again"),
    ProblemType("attachment_own_folder", "info",
                "{file} อยู่ในโฟลเดอร์ {folder} ของโปรแกรมเอง (แบบฟอร์ม ผลลัพธ์ หรือไฟล์แก้ไข) ไม่ใช่ไฟล์ที่อำเภอส่งกลับ จึงข้าม",
                "{file} is in the tool's own {folder} folder (templates, results or correction workbooks), "
                "not a district's reply; skipped",
                "ไม่ต้องทำอะไร", "Nothing to do"),
    ProblemType("mail_no_attachment", "info",
                "อ่านอีเมล \"{file}\" แล้ว ไม่มีไฟล์แนบ", "mail \"{file}\" read: it has no attachment",
                "หากอำเภอแจ้งว่าแนบไฟล์แล้ว ขอให้ส่งใหม่",
                "If the district says it attached its report, ask it to send again"),
    ProblemType("collect_limit", "warning",
                "หยุดการรวบรวมเมื่อถึงขีดจำกัดต่อครั้ง ({detail}) ไฟล์แนบที่เหลือยังไม่ได้นำเข้า",
                "collecting stopped at the per-run limit ({detail}); the remaining attachments were not collected",
                "ตรวจดูอีเมลหรือไฟล์ zip ที่มีไฟล์จำนวนมากผิดปกติ แล้วสั่ง collect ใหม่ (ไฟล์ที่บันทึกแล้วจะไม่ถูกบันทึกซ้ำ)",
                "Look for a mail or zip with an abnormal number of files, then run collect again "
                "(files already saved are not saved twice)"),
    ProblemType("collect_write_failed", "error",
                "เขียนไฟล์ {file} ลงในโฟลเดอร์ {folder} ไม่ได้ ({detail}) จึงหยุดการรวบรวม "
                "หลังบันทึกแล้ว {count} ไฟล์ (ดูรายการใน {log})",
                "cannot write {file} into {folder} ({detail}); collecting stopped after saving {count} files "
                "(listed in {log})",
                "ทำให้ดิสก์มีที่ว่าง ตรวจสิทธิ์การเขียนโฟลเดอร์ หรือย้ายโฟลเดอร์ input ไปที่ที่เส้นทางสั้นกว่า แล้วสั่ง collect ใหม่ "
                "(ไฟล์ที่บันทึกแล้วจะไม่ถูกบันทึกซ้ำ)",
                "Free disk space, check that the folder may be written, or move the input folder to a shorter "
                "path, then run collect again (files already saved are not saved twice)"),
    ProblemType("collect_log_unwritable", "error",
                "เขียนบันทึกการรวบรวม {file} ไม่ได้ ({detail}) อาจเปิดค้างอยู่ใน Excel จึงหยุดการรวบรวม",
                "cannot write the collection log {file} ({detail}), is it open in Excel? Collecting stopped",
                "ปิดไฟล์บันทึกแล้วสั่ง collect ใหม่ ไฟล์ที่บันทึกไปแล้วจะถูกลงบันทึกในครั้งถัดไป",
                "Close the log and run collect again; files already saved are recorded by the next run"),
    ProblemType("collect_busy", "error",
                "มีการรวบรวม (collect) อีกชุดกำลังเขียนลงโฟลเดอร์ {file} อยู่ และรอนานเกินไป จึงหยุด",
                "another collect run is writing into {file} and did not finish in time; stopped",
                "รอให้ชุดนั้นทำงานเสร็จ แล้วสั่ง collect ใหม่", "Wait until the other run has finished, then run "
                "collect again"),
    # ---- one cell
    ProblemType("required_missing", "error",
                "ยังไม่ได้กรอก {label}", "{label_en} is empty",
                "กรอกข้อมูลในช่องนี้", "Fill in this cell"),
    ProblemType("wrong_type", "error",
                "{label}: อ่านค่า \"{value}\" ไม่ได้ ต้องเป็น{expected}",
                "{label_en}: cannot read \"{value}\"; expected {expected_en}",
                "แก้ไขให้เป็น{expected}", "Enter {expected_en}"),
    ProblemType("negative", "error",
                "{label}: ต้องไม่ติดลบ (พบ {value})", "{label_en} must not be negative (found {value})",
                "แก้ไขให้เป็นค่าตั้งแต่ 0 ขึ้นไป", "Enter 0 or more"),
    ProblemType("not_positive", "error",
                "{label}: ต้องมากกว่า 0 (พบ {value})", "{label_en} must be more than 0 (found {value})",
                "แก้ไขให้มากกว่า 0", "Enter a number above 0"),
    ProblemType("not_whole", "error",
                "{label}: ต้องเป็นจำนวนเต็ม (พบ {value})", "{label_en} must be a whole number (found {value})",
                "แก้ไขให้เป็นจำนวนเต็ม", "Enter a whole number"),
    ProblemType("too_many_decimals", "warning",
                "{label}: จำนวนเงินมีทศนิยมเกิน 2 ตำแหน่ง (พบ {value})",
                "{label_en}: money has more than 2 decimals (found {value})",
                "ตรวจสอบจำนวนเงิน", "Check the amount"),
    ProblemType("part_exceeds_whole", "error",
                "{label} ({value}) มากกว่า {other_label} ({other_value})",
                "{label_en} ({value}) is more than {other_label_en} ({other_value})",
                "ตรวจสอบและแก้ไขตัวเลขทั้งสองช่อง", "Check and correct both numbers"),
    ProblemType("date_outside_fiscal_year", "error",
                "{label}: วันที่ {value} อยู่นอกปีงบประมาณ", "{label_en}: {value} is outside the fiscal year",
                "แก้ไขวันที่ให้อยู่ในปีงบประมาณ (กรอกเป็น พ.ศ. เช่น 31/8/2565)",
                "Correct the date to one in the fiscal year (BE, e.g. 31/8/2565)"),
    ProblemType("report_date_outside_fiscal_year", "warning",
                "{label}: วันที่ {value} อยู่นอกปีงบประมาณ", "{label_en}: {value} is outside the fiscal year",
                "ตรวจสอบวันที่ (กรอกเป็น พ.ศ. เช่น 31/8/2565)", "Check the date (BE, e.g. 31/8/2565)"),
    ProblemType("result_unusual", "warning",
                "{kpi}: ผลลัพธ์ร้อยละ {value} อยู่นอกช่วงที่พบปกติ ({low} ถึง {high})",
                "{kpi}: a result of {value}% is outside the usual range ({low} to {high})",
                "ตรวจสอบตัวเลขที่ใช้คำนวณ", "Check the numbers it is computed from"),
    ProblemType("formula_without_value", "warning",
                "{label}: ช่องนี้เป็นสูตรที่ไม่มีค่าที่คำนวณไว้ จึงถือว่าว่าง",
                "{label_en}: this cell holds a formula without a saved value; it was treated as empty",
                "พิมพ์ตัวเลขลงในช่องแทนสูตร", "Type the number instead of a formula"),
    # ---- what the entry form's own formulas cannot read as the batch would (its check list)
    ProblemType("entry_not_a_number", "error",
                "{label}: พิมพ์เป็นตัวเลขล้วน ไม่มีหน่วย จุลภาค หรือข้อความ (พบ \"{value}\")",
                "{label_en}: type a plain number, without units, commas or text (found \"{value}\")",
                "พิมพ์ตัวเลขใหม่", "Type the number again"),
    ProblemType("entry_not_yes_no", "error",
                "{label}: เลือก ใช่ หรือ ไม่ใช่ จากรายการ (พบ \"{value}\")",
                "{label_en}: choose ใช่ or ไม่ใช่ from the list (found \"{value}\")",
                "เลือกจากรายการ", "Choose from the list"),
    ProblemType("entry_not_a_date", "error",
                "{label}: พิมพ์เป็นวันที่ เช่น 31/8/2565 (พบ \"{value}\")",
                "{label_en}: type a date such as 31/8/2565 (found \"{value}\")",
                "พิมพ์วันที่ใหม่", "Type the date again"),
    ProblemType("error_value", "error",
                "{label}: ช่องนี้มีค่าผิดพลาด {value}", "{label_en}: the cell holds the error value {value}",
                "พิมพ์ตัวเลขลงในช่องแทนสูตร", "Type the number instead of a formula"),
    # ---- the committee's adjustments file (score --adjustments): nothing is scored until every row applies
    ProblemType("adjustments_unreadable", "error",
                "อ่านไฟล์ปรับแก้ {file} ไม่ได้: {detail}", "cannot read the adjustments file {file}: {detail_en}",
                "ใช้ไฟล์จาก cdd-scorer adjustments-template (.xlsx) หรือไฟล์ .csv ที่มีหัวตารางเดียวกัน",
                "Use a file made by cdd-scorer adjustments-template (.xlsx), or a .csv with the same headers"),
    ProblemType("adjustment_invalid", "error",
                "ไฟล์ปรับแก้ {file} แถวที่ {row}: {detail}", "adjustments file {file}, row {row}: {detail_en}",
                "แก้ไขแถวนี้ในไฟล์ปรับแก้ แล้วคิดคะแนนใหม่", "Correct this row of the adjustments file, then score again"),
)


@dataclass(frozen=True)
class Problem:
    """One occurrence of a problem: where it was found and the values its message quotes."""

    code: str
    file: str = ""
    province_code: str = ""
    district_code: str = ""
    sheet: str = ""
    cell: str = ""
    field: str = ""
    value: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False, compare=False)

    @property
    def type(self) -> ProblemType:
        return CATALOGUE[self.code]

    @property
    def severity(self) -> Severity:
        return self.type.severity

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise ValueError(f"unknown problem code {self.code!r}")
        values = self._values()
        missing = sorted(name for name in self.type.placeholders if values.get(name) in (None, ""))
        if missing:
            raise ValueError(f"problem {self.code!r} needs {', '.join(missing)} for its message")

    def _values(self) -> dict[str, Any]:
        """What the texts may quote: the location fields, the params, and the English name of a label
        falling back to the Thai one (a field's label falling back to its id)."""
        values = {"file": self.file, "value": self.value, "field": self.field, **self.params}
        values.setdefault("label", self.field)
        for english, thai in _ENGLISH_FALLBACKS.items():
            values.setdefault(english, values.get(thai))
        return values

    def _format(self, template: str) -> str:
        return template.format_map(self._values())

    @property
    def message_th(self) -> str:
        return self._format(self.type.message_th)

    @property
    def message_en(self) -> str:
        return self._format(self.type.message_en)

    @property
    def action_th(self) -> str:
        return self._format(self.type.action_th)

    @property
    def action_en(self) -> str:
        return self._format(self.type.action_en)

    @property
    def district_action_th(self) -> str:
        return self._format(self.type.district_action_th or self.type.action_th)

    @property
    def district_action_en(self) -> str:
        return self._format(self.type.district_action_en or self.type.action_en)

    @property
    def location(self) -> str:
        """``file sheet!cell`` for people; as much of it as is known."""
        where = f"{self.sheet}!{self.cell}" if self.sheet and self.cell else self.sheet or self.cell
        return " ".join(p for p in (self.file, where) if p)


_ENGLISH_FALLBACKS = {"label_en": "label", "expected_en": "expected", "other_label_en": "other_label"}


def count_by_severity(problems: Iterable[Problem]) -> dict[str, int]:
    """How many problems of each severity, every severity present (0 when none)."""
    counts = dict.fromkeys(Severity, 0)
    for problem in problems:
        counts[problem.severity] += 1
    return counts
