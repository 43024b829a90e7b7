"""The admin's blocks and units: create and edit, each list paged and searchable.

A unit carries its category, type, floor, sanctioned load, tariff, rate override and its consumer's name, phone
and email (personal data: this screen is the admin's). "Edit" fills the form from the row; Save sends the whole
record (``PUT``), "New" empties the form for a ``POST``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from mobile_app.console.client import AdminClient, every_item
from mobile_app.console.forms import Form
from mobile_app.console.paged_list import PagedList
from mobile_app.i18n import LANGUAGES, N_, _
from mobile_app.ui.common import indian_number, push_update, title
from shared_billing.api_models import BlockIn, BlockOut, UnitIn, UnitOut
from shared_billing.protocol import NotificationChannel, NotificationLanguage, UnitCategory

__all__ = ["PremisesView", "choices"]

NONE = ""  # a dropdown's "none" option


def choices(pairs: list[tuple[str, str]], *, none: str | None = None) -> list[ft.DropdownOption]:
    """Dropdown options from (key, text) pairs, with a first "none" option when ``none`` names it."""
    first = [ft.DropdownOption(key=NONE, text=none)] if none is not None else []
    return first + [ft.DropdownOption(key=key, text=text) for key, text in pairs]


OPTED_OUT = "none"  # the notifications dropdown's "not at all"
DEFAULT_NOTIFY = "email,sms"  # what a new unit is told on (the server's default too)
# The channel choices the unit form offers (docs/notifications.md): each key the channels, comma-separated.
NOTIFY_CHOICES: dict[str, str] = {
    DEFAULT_NOTIFY: N_("Email and SMS"),
    "email": N_("Email only"),
    "sms": N_("SMS only"),
    "whatsapp": N_("WhatsApp only"),
    "email,whatsapp": N_("Email and WhatsApp"),
    "email,sms,whatsapp": N_("Email, SMS and WhatsApp"),
    OPTED_OUT: N_("Opted out of notifications"),
}


def notify_key(channels: list[NotificationChannel], opted_out: bool) -> str:
    """The dropdown's key for a unit's preference (a combination the form does not list is shown as its own)."""
    return OPTED_OUT if opted_out else ",".join(channel.value for channel in channels)


def _id(text: str | None) -> int | None:
    return int(text) if text else None


def _field(label: str, key: str, width: int = 180) -> ft.TextField:
    return ft.TextField(label=label, key=key, width=width, dense=True)


class PremisesView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.block_id: int | None = None  # the block being edited; None: a new one
        self.unit_id: int | None = None
        self.unit_waived = False  # not on the form: an edit keeps what the unit had
        self.unit_channels = ["email", "sms"]  # kept while the consumer is opted out, for when they opt back in
        self.block_form = Form(
            "block",
            {"code": _field(_("Block code"), "block_code"), "name": _field(_("Block name"), "block_name", 260)},
            save_label=_("Save block"),
        )
        self.block_form.on_save(self._save_block)
        self.unit_form = Form(
            "unit",
            {
                "code": _field(_("Unit code"), "unit_code"),
                "block_id": ft.Dropdown(label=_("Block"), key="unit_block", width=200),
                "category": ft.Dropdown(
                    label=_("Category"),
                    key="unit_category",
                    width=160,
                    value=UnitCategory.FLAT.value,
                    options=choices([(c.value, c.value) for c in UnitCategory]),
                ),
                "unit_type": _field(_("Unit type (2BHK, VILLA…)"), "unit_type"),
                "floor": _field(_("Floor"), "unit_floor", 100),
                "sanctioned_load_kw": _field(_("Sanctioned load kW"), "unit_load"),
                "tariff_id": ft.Dropdown(label=_("Tariff"), key="unit_tariff", width=260),
                "rate_override": _field(_("Rate override ₹/unit"), "unit_rate"),
                "consumer_name": _field(_("Consumer name"), "unit_consumer", 260),
                "phone": _field(_("Phone"), "unit_phone"),
                "email": _field(_("Email"), "unit_email", 260),
                "notify_language": ft.Dropdown(
                    label=_("Language of messages"),
                    key="unit_notify_language",
                    width=200,
                    value=NotificationLanguage.ENGLISH.value,
                    options=choices([(language.value, LANGUAGES[language.value]) for language in NotificationLanguage]),
                ),
                "notify": ft.Dropdown(
                    label=_("Notifications"),
                    key="unit_notify",
                    width=280,
                    value=DEFAULT_NOTIFY,
                    options=choices([(key, _(text)) for key, text in NOTIFY_CHOICES.items()]),
                ),
            },
            rows=[
                ["code", "block_id", "category", "unit_type", "floor"],
                ["sanctioned_load_kw", "tariff_id", "rate_override"],
                ["consumer_name", "phone", "email"],
                ["notify_language", "notify"],
            ],
            save_label=_("Save unit"),
        )
        self.unit_form.on_save(self._save_unit)
        self.block_heading = ft.Text(_("New block"), weight=ft.FontWeight.BOLD, key="block_heading")
        self.unit_heading = ft.Text(_("New unit"), weight=ft.FontWeight.BOLD, key="unit_heading")
        self.blocks = PagedList("blocks", client.block_page, self._block_row, hint=_("Search blocks"))
        self.units = PagedList("units", client.unit_page, self._unit_row, hint=_("Search units"))
        super().__init__(
            spacing=12,
            controls=[
                title(_("Blocks & units")),
                ft.Row([self.block_heading, ft.TextButton(_("New"), key="block_new", on_click=self._new_block)]),
                self.block_form,
                self.blocks,
                ft.Divider(),
                ft.Row([self.unit_heading, ft.TextButton(_("New"), key="unit_new", on_click=self._new_unit)]),
                self.unit_form,
                self.units,
            ],
        )

    async def load(self) -> None:
        await self._load_choices()
        await self.blocks.load()
        await self.units.load()

    async def _load_choices(self) -> None:
        blocks: list[BlockOut] = await every_item(self.client.block_page)
        tariffs = await every_item(self.client.tariff_page)
        block_field = self.unit_form.fields["block_id"]
        assert isinstance(block_field, ft.Dropdown)
        block_field.options = choices([(str(b.id), f"{b.code} · {b.name}") for b in blocks])
        tariff_field = self.unit_form.fields["tariff_id"]
        assert isinstance(tariff_field, ft.Dropdown)
        tariff_field.options = choices([(str(t.id), f"{t.code} · {t.name}") for t in tariffs], none=_("No tariff"))
        push_update(self)

    def _block_row(self, block: BlockOut) -> ft.Control:
        return ft.Row(
            [
                ft.Text(f"{block.code} · {block.name}", key=f"block-{block.id}"),
                ft.TextButton(_("Edit"), key=f"edit-block-{block.id}", on_click=partial(self._edit_block, block)),
            ]
        )

    def _unit_row(self, unit: UnitOut) -> ft.Control:
        facts = [unit.code, unit.category.value, unit.unit_type, f"floor {unit.floor or '—'}"]
        if unit.sanctioned_load_kw is not None:
            facts.append(f"{indian_number(unit.sanctioned_load_kw)} kW")
        if unit.consumer_name:
            facts.append(unit.consumer_name)
        return ft.Row(
            [
                ft.Text(" · ".join(facts), key=f"unit-{unit.id}"),
                ft.TextButton(_("Edit"), key=f"edit-unit-{unit.id}", on_click=partial(self._edit_unit, unit)),
            ]
        )

    async def _new_block(self, _event: ft.Event[Any] | None = None) -> None:
        self.block_id = None
        self.block_heading.value = _("New block")
        for field in self.block_form.fields.values():
            field.value = ""
        self.block_form.clear_errors()
        push_update(self)

    async def _edit_block(self, block: BlockOut, _event: ft.Event[Any] | None = None) -> None:
        self.block_id = block.id
        self.block_heading.value = _("Edit block {code}").format(code=block.code)
        self.block_form.fields["code"].value = block.code
        self.block_form.fields["name"].value = block.name
        self.block_form.clear_errors()
        push_update(self)

    async def _save_block(self, _event: ft.Event[Any]) -> None:
        form = self.block_form
        request = BlockIn.model_construct(code=form.text("code") or "", name=form.text("name") or "")
        saved = await form.submit(lambda: self.client.save_block(self.block_id, request))
        if saved is None:
            return
        self.block_form.notice.say(_("Block {code} saved").format(code=saved.code))
        await self._new_block()
        await self._load_choices()
        await self.blocks.load()

    async def _new_unit(self, _event: ft.Event[Any] | None = None) -> None:
        self.unit_id = None
        self.unit_waived = False
        self.unit_channels = ["email", "sms"]
        self.unit_heading.value = _("New unit")
        for name, field in self.unit_form.fields.items():
            if name not in {"category", "notify_language", "notify"}:
                field.value = None if isinstance(field, ft.Dropdown) else ""
        self.unit_form.fields["notify_language"].value = NotificationLanguage.ENGLISH.value
        self.unit_form.fields["notify"].value = DEFAULT_NOTIFY
        self.unit_form.clear_errors()
        push_update(self)

    async def _edit_unit(self, unit: UnitOut, _event: ft.Event[Any] | None = None) -> None:
        self.unit_id = unit.id
        self.unit_waived = unit.fixed_charge_waived
        self.unit_channels = [channel.value for channel in unit.notify_channels]
        self.unit_heading.value = _("Edit unit {code}").format(code=unit.code)
        shown = {
            "code": unit.code,
            "block_id": str(unit.block_id),
            "category": unit.category.value,
            "unit_type": unit.unit_type,
            "floor": unit.floor,
            "sanctioned_load_kw": unit.sanctioned_load_kw,
            "tariff_id": str(unit.tariff_id) if unit.tariff_id else NONE,
            "rate_override": unit.rate_override,
            "consumer_name": unit.consumer_name,
            "phone": unit.phone,
            "email": unit.email,
            "notify_language": unit.notify_language.value,
            "notify": notify_key(unit.notify_channels, unit.notify_opt_out),
        }
        notify, preference = self.unit_form.fields["notify"], notify_key(unit.notify_channels, unit.notify_opt_out)
        assert isinstance(notify, ft.Dropdown)
        if preference not in NOTIFY_CHOICES:  # set through the API: shown, and kept on Save
            notify.options = [*(notify.options or []), ft.DropdownOption(key=preference, text=preference)]
        for name, value in shown.items():
            self.unit_form.fields[name].value = "" if value is None else str(value)
        self.unit_form.clear_errors()
        push_update(self)

    async def _save_unit(self, _event: ft.Event[Any]) -> None:
        form = self.unit_form
        # As typed: the server judges each value and names the field at fault (model_construct validates nothing).
        typed: dict[str, Any] = {name: form.text(name) for name in form.fields if name != "notify"}
        notify = form.text("notify") or ""
        typed |= {
            "notify_language": typed["notify_language"] or NotificationLanguage.ENGLISH.value,
            "notify_channels": self.unit_channels if notify == OPTED_OUT else notify.split(","),
            "notify_opt_out": notify == OPTED_OUT,
            "code": typed["code"] or "",
            "block_id": _id(typed["block_id"]) or 0,
            "category": typed["category"] or "",
            "unit_type": typed["unit_type"] or "",
            "tariff_id": _id(typed["tariff_id"]),
            "fixed_charge_waived": self.unit_waived,
            "reason": None,
        }
        request = UnitIn.model_construct(**typed)
        saved = await form.submit(lambda: self.client.save_unit(self.unit_id, request))
        if saved is None:
            return
        self.unit_form.notice.say(_("Unit {code} saved").format(code=saved.code))
        await self._new_unit()
        await self.units.load()
