"""Tally's XML import envelope for a month's bills and payments: pure, no I/O.

Tally imports vouchers from ``ENVELOPE/HEADER/TALLYREQUEST`` "Import Data" with
``BODY/IMPORTDATA/REQUESTDESC/REPORTNAME`` "Vouchers" and one ``REQUESTDATA/TALLYMESSAGE/VOUCHER`` each. In a voucher's
ledger entries a debit is written as a negative amount with ``ISDEEMEDPOSITIVE`` Yes and a credit as a positive
amount with No, so the amounts of a balanced voucher add up to zero:

- a **Sales** voucher per issued bill, numbered as the bill, on its issue day: the unit's party ledger is debited
  with the bill's charges for the period (what the society's ledger charged it), the income ledger credited;
- a **Receipt** voucher per payment, on the day paid: the bank ledger (the cash ledger for cash) is debited, the
  unit's party ledger credited.

The party ledger is the unit's code; the income, bank and cash ledgers' names are the society's settings
(``FIELDMETER_TALLY_*``), since they must match the ledgers in its Tally company.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

__all__ = ["LedgerNames", "ReceiptVoucher", "SalesVoucher", "tally_envelope"]

_PAISE = Decimal("0.01")


@dataclass(frozen=True)
class LedgerNames:
    company: str  # empty: the company open in Tally
    income: str
    bank: str
    cash: str


@dataclass(frozen=True)
class SalesVoucher:
    number: str
    day: date
    party: str
    amount: Decimal
    narration: str


@dataclass(frozen=True)
class ReceiptVoucher:
    number: str
    day: date
    party: str
    amount: Decimal
    cash: bool
    narration: str


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value
    return element


def _entry(voucher: ET.Element, ledger: str, amount: Decimal, *, debit: bool) -> None:
    entry = ET.SubElement(voucher, "ALLLEDGERENTRIES.LIST")
    _text(entry, "LEDGERNAME", ledger)
    _text(entry, "ISDEEMEDPOSITIVE", "Yes" if debit else "No")
    signed = -amount if debit else amount
    _text(entry, "AMOUNT", f"{signed.quantize(_PAISE):f}")


def _voucher(message: ET.Element, kind: str, number: str, day: date, party: str, narration: str) -> ET.Element:
    voucher = ET.SubElement(message, "VOUCHER", VCHTYPE=kind, ACTION="Create")
    _text(voucher, "DATE", day.strftime("%Y%m%d"))
    _text(voucher, "VOUCHERTYPENAME", kind)
    _text(voucher, "VOUCHERNUMBER", number)
    _text(voucher, "PARTYLEDGERNAME", party)
    _text(voucher, "NARRATION", narration)
    return voucher


def tally_envelope(sales: Iterable[SalesVoucher], receipts: Iterable[ReceiptVoucher], ledgers: LedgerNames) -> bytes:
    """The import file, UTF-8 with an XML declaration."""
    envelope = ET.Element("ENVELOPE")
    _text(ET.SubElement(envelope, "HEADER"), "TALLYREQUEST", "Import Data")
    import_data = ET.SubElement(ET.SubElement(envelope, "BODY"), "IMPORTDATA")
    description = ET.SubElement(import_data, "REQUESTDESC")
    _text(description, "REPORTNAME", "Vouchers")
    if ledgers.company:
        _text(ET.SubElement(description, "STATICVARIABLES"), "SVCURRENTCOMPANY", ledgers.company)
    data = ET.SubElement(import_data, "REQUESTDATA")
    for bill in sales:
        voucher = _voucher(
            ET.SubElement(data, "TALLYMESSAGE"), "Sales", bill.number, bill.day, bill.party, bill.narration
        )
        _entry(voucher, bill.party, bill.amount, debit=True)
        _entry(voucher, ledgers.income, bill.amount, debit=False)
    for payment in receipts:
        message = ET.SubElement(data, "TALLYMESSAGE")
        voucher = _voucher(message, "Receipt", payment.number, payment.day, payment.party, payment.narration)
        _entry(voucher, ledgers.cash if payment.cash else ledgers.bank, payment.amount, debit=True)
        _entry(voucher, payment.party, payment.amount, debit=False)
    ET.indent(envelope)
    document: bytes = ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return document
