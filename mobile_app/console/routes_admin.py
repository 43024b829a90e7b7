"""The admin's routes: an engineer's meters in walk order. Add a meter by its number, reorder by typing each
meter's place or with the up/down buttons (then "Save order": the whole route in one request), and move the ticked
meters to another engineer's route (with a reason; they join the end of it). The phone sees the change on its next
pull.

A route is shown whole (fetched a page at a time): a new order names every meter of it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError, ApiError
from mobile_app.console.client import AdminClient, every_item
from mobile_app.console.forms import Form, Notice
from mobile_app.console.premises_admin import choices
from mobile_app.i18n import _, ngettext
from mobile_app.ui.common import push_update, title
from shared_billing.api_models import Page, RouteMove, RouteOrder, RouteStop, UserOut
from shared_billing.protocol import Role

__all__ = ["RoutesView", "new_order"]


def new_order(stops: list[RouteStop], places: dict[int, str]) -> list[int] | dict[int, str]:
    """The meters in the order the typed places say (ties keep the shown order), or the errors by meter id."""
    errors: dict[int, str] = {}
    keyed: list[tuple[int, int, int]] = []
    for index, stop in enumerate(stops):
        text = places.get(stop.meter_id, str(index + 1)).strip()
        if not text.isdigit() or int(text) < 1:
            errors[stop.meter_id] = "A place is a number from 1"
            continue
        keyed.append((int(text), index, stop.meter_id))
    return errors or [meter_id for _place, _index, meter_id in sorted(keyed)]


class RoutesView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.stops: list[RouteStop] = []
        self.places: dict[int, ft.TextField] = {}
        self.picked: set[int] = set()
        self.engineer = ft.Dropdown(label=_("Engineer"), key="route_engineer", width=260, on_select=self._chosen)
        self.add_form = Form(
            "route_add",
            {"number": ft.TextField(label=_("Meter number"), key="route_meter", width=200, dense=True)},
            save_label=_("Add to route"),
        )
        self.add_form.on_save(self._add)
        self.summary = ft.Text("", key="route_summary")
        self.rows = ft.Column(spacing=2, key="route_rows")
        self.save_order = ft.FilledButton(_("Save order"), key="route_save", on_click=self._save_order)
        self.order_notice = Notice("route_order_notice")
        self.move_form = Form(
            "move",
            {
                "to_engineer_id": ft.Dropdown(label=_("Move ticked meters to"), key="move_to", width=260),
                "reason": ft.TextField(label=_("Reason"), key="move_reason", width=320, dense=True),
            },
            save_label=_("Move ticked meters"),
        )
        self.move_form.on_save(self._move)
        super().__init__(
            spacing=12,
            controls=[
                title(_("Routes")),
                self.engineer,
                self.add_form,
                self.summary,
                self.rows,
                ft.Row([self.save_order, self.order_notice]),
                ft.Divider(),
                self.move_form,
            ],
        )

    async def load(self) -> None:
        async def engineers(q: str | None, limit: int, offset: int) -> Page[UserOut]:
            return await self.client.user_page(q, limit, offset, role=Role.ENGINEER)

        people: list[UserOut] = await every_item(engineers)
        options = [(str(u.id), f"{u.username} · {u.full_name}") for u in people if u.active]
        self.engineer.options = choices(options)
        target = self.move_form.fields["to_engineer_id"]
        assert isinstance(target, ft.Dropdown)
        target.options = choices(options)
        if self.engineer.value is None and options:
            self.engineer.value = options[0][0]
        push_update(self)
        await self._load_route()

    def _engineer_id(self) -> int | None:
        return int(self.engineer.value) if self.engineer.value else None

    async def _chosen(self, _event: ft.Event[Any] | None = None) -> None:
        self.picked.clear()
        await self._load_route()

    async def _load_route(self) -> None:
        engineer_id = self._engineer_id()
        if engineer_id is None:
            self.summary.value = _("No engineers yet: create one under People")
            push_update(self)
            return

        async def fetch(q: str | None, limit: int, offset: int) -> Page[RouteStop]:
            return await self.client.route(engineer_id, q, limit, offset)

        stops = await every_item(fetch)
        if self._engineer_id() != engineer_id:
            return  # another engineer was chosen meanwhile: that route's load shows it
        self.stops = stops
        self._show()

    def _show(self) -> None:
        self.summary.value = ngettext(
            "{count} meter in walk order", "{count} meters in walk order", len(self.stops)
        ).format(count=len(self.stops))
        self.places = {}
        rows: list[ft.Control] = []
        for index, stop in enumerate(self.stops):
            place = ft.TextField(value=str(index + 1), key=f"place-{stop.meter_id}", width=70, dense=True)
            self.places[stop.meter_id] = place
            rows.append(
                ft.Row(
                    [
                        ft.Checkbox(
                            key=f"pick-{stop.meter_id}",
                            value=stop.meter_id in self.picked,
                            on_change=partial(self._pick, stop.meter_id),
                        ),
                        place,
                        ft.Text(
                            _("{unit} · meter {meter} · block {block}").format(
                                unit=stop.unit_code or "—", meter=stop.meter_number, block=stop.block_code
                            ),
                            key=f"stop-{stop.meter_id}",
                        ),
                        ft.IconButton(
                            ft.Icons.ARROW_UPWARD,
                            key=f"up-{stop.meter_id}",
                            tooltip=_("Earlier"),
                            disabled=index == 0,
                            on_click=partial(self._step, index, -1),
                        ),
                        ft.IconButton(
                            ft.Icons.ARROW_DOWNWARD,
                            key=f"down-{stop.meter_id}",
                            tooltip=_("Later"),
                            disabled=index == len(self.stops) - 1,
                            on_click=partial(self._step, index, 1),
                        ),
                    ],
                    key=f"stoprow-{stop.meter_id}",
                )
            )
        self.rows.controls = rows
        self.order_notice.value = ""
        push_update(self)

    async def _pick(self, meter_id: int, event: ft.Event[Any]) -> None:
        box = event.control
        if isinstance(box, ft.Checkbox) and box.value:
            self.picked.add(meter_id)
        else:
            self.picked.discard(meter_id)

    async def _step(self, index: int, by: int, _event: ft.Event[Any] | None = None) -> None:
        """Up or down one place on screen; "Save order" sends it."""
        other = index + by
        if 0 <= other < len(self.stops):
            self.stops[index], self.stops[other] = self.stops[other], self.stops[index]
            self._show()
            self.order_notice.say(_("Not saved yet: Save order"), error=True)
            push_update(self)

    async def _save_order(self, _event: ft.Event[Any]) -> None:
        engineer_id = self._engineer_id()
        if engineer_id is None or not self.stops:
            return
        order = new_order(self.stops, {meter_id: field.value or "" for meter_id, field in self.places.items()})
        for meter_id, field in self.places.items():
            field.error = order.get(meter_id) if isinstance(order, dict) else None
        if isinstance(order, dict):
            push_update(self)
            return
        self.save_order.disabled = True
        push_update(self)
        try:
            await self.client.reorder_route(engineer_id, RouteOrder.model_construct(meter_ids=order, reason=None))
        except ApiClientError as error:
            self.order_notice.say(error.message, error=True)
            return
        finally:
            self.save_order.disabled = False
            push_update(self)
        await self._load_route()
        self.order_notice.say(_("Walk order saved"))

    async def _add(self, _event: ft.Event[Any]) -> None:
        engineer_id = self._engineer_id()
        number = self.add_form.text("number") or ""
        if engineer_id is None:
            return

        async def assign() -> str:
            found = await self.client.meter_page(number, 50, 0)
            meter = next((m for m in found.items if m.number == number), None)
            if meter is None:
                raise ApiError(404, "meter.not_found", f"No meter numbered {number!r}", {"field": "number"})
            await self.client.assign_meter(meter.id, engineer_id)
            return meter.number

        added = await self.add_form.submit(assign)
        if added is None:
            return
        self.add_form.fields["number"].value = ""
        self.add_form.notice.say(_("Meter {number} is on the route").format(number=added))
        await self._load_route()

    async def _move(self, _event: ft.Event[Any]) -> None:
        engineer_id = self._engineer_id()
        if engineer_id is None:
            return
        picked = [stop.meter_id for stop in self.stops if stop.meter_id in self.picked]
        typed: dict[str, Any] = {
            "from_engineer_id": engineer_id,
            "to_engineer_id": int(self.move_form.text("to_engineer_id") or 0),
            "meter_ids": picked,
            "reason": self.move_form.text("reason") or "",
        }
        moved = await self.move_form.submit(lambda: self.client.move_route(RouteMove.model_construct(**typed)))
        if moved is None:
            return
        self.picked.clear()
        self.move_form.notice.say(
            ngettext("Moved {count} meter", "Moved {count} meters", len(moved.meter_ids)).format(
                count=len(moved.meter_ids)
            )
        )
        await self._load_route()
