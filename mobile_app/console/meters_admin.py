"""The admin's meters: create and edit (number, register shape, registered location as typed coordinates, install
date, status), replace one (the old meter's final read, the new meter's number and initial read, on a date), and
the members of a shared meter (a unit joins or leaves from a date; earlier months stay as
billed). "Use my current fix" is the phone's: the browser takes typed coordinates only.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from mobile_app.console.client import AdminClient, every_item
from mobile_app.console.forms import Form
from mobile_app.console.paged_list import PagedList
from mobile_app.console.premises_admin import NONE, choices
from mobile_app.i18n import _
from mobile_app.ui.common import day, indian_number, push_update, title
from shared_billing.api_models import (
    BlockOut,
    MembershipEnd,
    MembershipIn,
    MembershipOut,
    MeterIn,
    MeterOut,
    Page,
    ReplacementIn,
)
from shared_billing.protocol import MeterKind, MeterStatus

__all__ = ["MetersView"]


def _field(label: str, key: str, width: int = 150, value: str = "") -> ft.TextField:
    return ft.TextField(label=label, key=key, width=width, dense=True, value=value)


def _id(text: str | None) -> int | None:
    return int(text) if text else None


class MetersView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.meter_id: int | None = None
        self.shared: MeterOut | None = None  # the shared meter whose members are shown
        self.blocks: dict[int, BlockOut] = {}
        self.heading = ft.Text(_("New meter"), weight=ft.FontWeight.BOLD, key="meter_heading")
        self.form = Form(
            "meter",
            {
                "number": _field(_("Meter number"), "meter_number", 180),
                "block_id": ft.Dropdown(label=_("Block"), key="meter_block", width=200, on_select=self._block_chosen),
                "unit_id": ft.Dropdown(label=_("Unit (none: shared)"), key="meter_unit", width=220),
                "label": _field(_("Label (shared meters)"), "meter_label", 200),
                "dials": _field(_("Dials"), "meter_dials", 90, "6"),
                "decimals": _field(_("Decimals"), "meter_decimals", 90, "0"),
                "multiplier": _field(_("Multiplier"), "meter_multiplier", 110, "1"),
                "lat": _field(_("Latitude"), "meter_lat"),
                "lon": _field(_("Longitude"), "meter_lon"),
                "install_date": _field(_("Install date (YYYY-MM-DD)"), "meter_install", 200),
                "status": ft.Dropdown(
                    label=_("Status"),
                    key="meter_status",
                    width=140,
                    value=MeterStatus.ACTIVE.value,
                    options=choices([(s.value, s.value) for s in MeterStatus]),
                ),
                "reason": _field(_("Reason (to retire)"), "meter_reason", 260),
            },
            rows=[
                ["number", "block_id", "unit_id", "label"],
                ["dials", "decimals", "multiplier", "lat", "lon"],
                ["install_date", "status", "reason"],
            ],
            save_label=_("Save meter"),
        )
        self.form.on_save(self._save)
        self.list = PagedList("meters", client.meter_page, self._row, hint=_("Search meter number or label"))
        self.members_heading = ft.Text("", weight=ft.FontWeight.BOLD, key="members_heading")
        self.member_form = Form(
            "member",
            {
                "unit_id": ft.Dropdown(label=_("Unit"), key="member_unit", width=220),
                "valid_from": _field(_("From (YYYY-MM-DD)"), "member_from", 180),
            },
            save_label=_("Add member"),
        )
        self.member_form.on_save(self._add_member)
        # Filled in before a member's "End": one request with the row's membership.
        self.end_form = Form(
            "member_end",
            {
                "valid_to": _field(_("Leaves on (YYYY-MM-DD)"), "member_to", 200),
                "reason": _field(_("Reason"), "member_reason", 260),
            },
        )
        self.end_form.save_button.visible = False
        self.members = PagedList("members", self._member_page, self._member_row, empty=_("No members yet"))
        self.members_panel = ft.Column(
            [
                self.members_heading,
                self.member_form,
                self.end_form,
                self.members,
            ],
            visible=False,
            key="members_panel",
        )
        self.replacing: MeterOut | None = None
        self.replace_heading = ft.Text("", weight=ft.FontWeight.BOLD, key="replace_heading")
        self.replace_form = Form(
            "replace",
            {
                "replaced_on": _field(_("Replaced on (YYYY-MM-DD)"), "replace_on", 200),
                "old_final": _field(_("Old meter's final read"), "replace_old_final", 200),
                "new_meter_number": _field(_("New meter number"), "replace_number", 200),
                "new_initial": _field(_("New meter's initial read"), "replace_new_initial", 200),
                "new_dials": _field(_("New dials (blank: same)"), "replace_dials", 180),
                "reason": _field(_("Reason"), "replace_reason", 320),
            },
            rows=[["replaced_on", "old_final"], ["new_meter_number", "new_initial", "new_dials"], ["reason"]],
            save_label=_("Record replacement"),
        )
        self.replace_form.on_save(self._replace)
        self.replace_panel = ft.Column([self.replace_heading, self.replace_form], visible=False, key="replace_panel")
        super().__init__(
            spacing=12,
            controls=[
                title(_("Meters")),
                ft.Row([self.heading, ft.TextButton(_("New"), key="meter_new", on_click=self._new)]),
                self.form,
                self.list,
                ft.Divider(),
                self.replace_panel,
                self.members_panel,
            ],
        )

    def _dropdown(self, form: Form, name: str) -> ft.Dropdown:
        field = form.fields[name]
        assert isinstance(field, ft.Dropdown)
        return field

    async def load(self) -> None:
        blocks: list[BlockOut] = await every_item(self.client.block_page)
        self.blocks = {b.id: b for b in blocks}
        self._dropdown(self.form, "block_id").options = choices([(str(b.id), f"{b.code} · {b.name}") for b in blocks])
        push_update(self)
        await self.list.load()

    async def _unit_choices(self, block_id: int | None, none: str | None) -> list[ft.DropdownOption]:
        if block_id is None:
            return choices([], none=none)

        async def fetch(q: str | None, limit: int, offset: int) -> Page[Any]:
            return await self.client.unit_page(q, limit, offset, block_id=block_id)

        units = await every_item(fetch)
        return choices([(str(u.id), u.code) for u in units], none=none)

    async def _block_chosen(self, _event: ft.Event[Any] | None = None) -> None:
        unit = self._dropdown(self.form, "unit_id")
        unit.options = await self._unit_choices(_id(self.form.text("block_id")), _("No unit (shared meter)"))
        unit.value = NONE
        push_update(self)

    def _row(self, meter: MeterOut) -> ft.Control:
        block = self.blocks.get(meter.block_id)
        facts = [
            meter.number,
            f"block {block.code if block else meter.block_id}",
            meter.label or meter.kind.value,
            f"{meter.dials} dials",
            f"×{indian_number(meter.multiplier)}",
        ]
        if meter.status != MeterStatus.ACTIVE:
            facts.append(meter.status.value)
        if meter.lat is not None and meter.lon is not None:
            facts.append(f"{meter.lat:.5f}, {meter.lon:.5f}")
        actions: list[ft.Control] = [
            ft.TextButton(_("Edit"), key=f"edit-meter-{meter.id}", on_click=partial(self._edit, meter))
        ]
        if meter.status == MeterStatus.ACTIVE and meter.kind == MeterKind.UNIT:  # a unit's own meter is replaced
            actions.append(
                ft.TextButton(_("Replace"), key=f"replace-{meter.id}", on_click=partial(self._show_replace, meter))
            )
        if meter.kind == MeterKind.SHARED:
            actions.append(
                ft.TextButton(_("Members"), key=f"members-{meter.id}", on_click=partial(self._show_members, meter))
            )
        return ft.Row([ft.Text(" · ".join(facts), key=f"meter-{meter.id}"), *actions], key=f"meterrow-{meter.id}")

    async def _new(self, _event: ft.Event[Any] | None = None) -> None:
        self.meter_id = None
        self.heading.value = _("New meter")
        defaults = {"dials": "6", "decimals": "0", "multiplier": "1", "status": MeterStatus.ACTIVE.value}
        for name, field in self.form.fields.items():
            field.value = defaults.get(name, None if isinstance(field, ft.Dropdown) else "")
        self.form.clear_errors()
        push_update(self)

    async def _edit(self, meter: MeterOut, _event: ft.Event[Any] | None = None) -> None:
        self.meter_id = meter.id
        self.heading.value = _("Edit meter {number}").format(number=meter.number)
        self._dropdown(self.form, "unit_id").options = await self._unit_choices(
            meter.block_id, _("No unit (shared meter)")
        )
        shown: dict[str, object] = {
            "number": meter.number,
            "block_id": meter.block_id,
            "unit_id": meter.unit_id if meter.unit_id is not None else NONE,
            "label": meter.label,
            "dials": meter.dials,
            "decimals": meter.decimals,
            "multiplier": meter.multiplier,
            "lat": meter.lat,
            "lon": meter.lon,
            "install_date": meter.install_date,
            "status": meter.status.value,
            "reason": None,
        }
        for name, value in shown.items():
            self.form.fields[name].value = "" if value is None else str(value)
        self.form.clear_errors()
        push_update(self)

    async def _save(self, _event: ft.Event[Any]) -> None:
        form = self.form
        # As typed: the server judges each value and names the field at fault (model_construct validates nothing).
        typed: dict[str, Any] = {name: form.text(name) for name in form.fields}
        typed |= {
            "number": typed["number"] or "",
            "block_id": _id(typed["block_id"]) or 0,
            "unit_id": _id(typed["unit_id"]),
            "status": typed["status"] or MeterStatus.ACTIVE.value,
        }
        saved = await form.submit(lambda: self.client.save_meter(self.meter_id, MeterIn.model_construct(**typed)))
        if saved is None:
            return
        self.form.notice.say(_("Meter {number} saved").format(number=saved.number))
        await self._new()
        await self.list.load()

    # --- replacement: one event, the old meter's final read and the new meter's number and initial read ---

    async def _show_replace(self, meter: MeterOut, _event: ft.Event[Any] | None = None) -> None:
        self.replacing = meter
        self.replace_heading.value = _("Replace meter {number}").format(number=meter.number)
        for field in self.replace_form.fields.values():
            field.value = ""
        self.replace_form.clear_errors()
        self.replace_panel.visible = True
        push_update(self)

    async def _replace(self, _event: ft.Event[Any]) -> None:
        old = self.replacing
        if old is None:
            return
        form = self.replace_form
        typed: dict[str, Any] = {name: form.text(name) for name in form.fields}
        typed |= {
            "replaced_on": typed["replaced_on"] or "",
            "old_final": typed["old_final"] or "",
            "new_meter_number": typed["new_meter_number"] or "",
            "new_initial": typed["new_initial"] or "",
            "reason": typed["reason"] or "",
            "new_decimals": None,
            "new_multiplier": None,
        }
        event = await form.submit(lambda: self.client.replace_meter(old.id, ReplacementIn.model_construct(**typed)))
        if event is None:
            return
        self.replacing = None
        for field in form.fields.values():
            field.value = ""
        form.notice.say(
            _("Meter {old} replaced by {new} on {day}").format(
                old=event.old_meter_number, new=event.new_meter_number, day=day(event.replaced_on)
            )
        )
        await self.list.load()

    # --- members of a shared meter ---

    async def _member_page(self, q: str | None, limit: int, offset: int) -> Page[MembershipOut]:
        if self.shared is None:
            return Page[MembershipOut](items=[], total=0, limit=limit, offset=offset)
        return await self.client.members(self.shared.id, q, limit, offset)

    async def _show_members(self, meter: MeterOut, _event: ft.Event[Any] | None = None) -> None:
        self.shared = meter
        self.members_heading.value = _("Members of {meter}").format(meter=meter.label or meter.number)
        self._dropdown(self.member_form, "unit_id").options = await self._unit_choices(meter.block_id, None)
        self.members_panel.visible = True
        push_update(self)
        await self.members.load()

    def _member_row(self, member: MembershipOut) -> ft.Control:
        since = day(member.valid_from)
        text = (
            _("{unit} · from {since} · until {until}").format(
                unit=member.unit_code, since=since, until=day(member.valid_to)
            )
            if member.valid_to
            else _("{unit} · from {since} · still a member").format(unit=member.unit_code, since=since)
        )
        row: list[ft.Control] = [ft.Text(text, key=f"member-{member.id}")]
        if member.valid_to is None:
            row.append(
                ft.TextButton(_("End"), key=f"end-member-{member.id}", on_click=partial(self._end_member, member))
            )
        return ft.Row(row)

    async def _add_member(self, _event: ft.Event[Any]) -> None:
        meter = self.shared
        if meter is None:
            return
        form = self.member_form
        typed: dict[str, Any] = {"unit_id": _id(form.text("unit_id")) or 0, "valid_from": form.text("valid_from")}
        added = await form.submit(lambda: self.client.add_member(meter.id, MembershipIn.model_construct(**typed)))
        if added is None:
            return
        self.member_form.notice.say(
            _("{unit} shares {meter} from {day}").format(
                unit=added.unit_code, meter=meter.label or meter.number, day=day(added.valid_from)
            )
        )
        await self.members.load()

    async def _end_member(self, member: MembershipOut, _event: ft.Event[Any] | None = None) -> None:
        form = self.end_form
        typed: dict[str, Any] = {"valid_to": form.text("valid_to"), "reason": form.text("reason")}
        end = MembershipEnd.model_construct(**typed)
        ended = await form.submit(lambda: self.client.end_member(member.meter_id, member.id, end))
        if ended is None:
            return
        self.member_form.notice.say(_("{unit} leaves from {day}").format(unit=ended.unit_code, day=day(ended.valid_to)))
        await self.members.load()
