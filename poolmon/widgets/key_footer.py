"""`KeyFooter`: Textual's key footer, but one that drops keys by importance when narrow.

Why: Textual's `Footer` lays every key out and lets the line run off the right edge, which at
80 columns cut `? Help` and `q Quit`. This footer asks `_footer_fit.fit_keys` which keys fit
the width it has, least important dropped first, and draws only those, in their order; it
lays itself out again when its width changes. While a text field has the focus (`q` types a
q there), it shows the key that still quits (`^q Quit`).
"""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from poolmon.widgets._footer_fit import FooterItem, fit_keys, palette_fits


class KeyFooter(Footer):
    """A one-line key footer that keeps `Quit` and `Help` at any width (see the module doc)."""

    _laid_out_width = 0
    """The width the keys were last chosen for."""

    def _shown_bindings(self) -> list[tuple[Binding, bool, str]]:
        """The bindings to show, one per action (the first key bound to it), in order."""
        seen: dict[str, tuple[Binding, bool, str]] = {}
        hidden_quit: tuple[Binding, bool, str] | None = None
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen[binding.action] = (binding, enabled, tooltip)
            elif binding.action == "quit" and hidden_quit is None:
                hidden_quit = (binding, enabled, tooltip)
        if "quit" not in seen and hidden_quit is not None:
            # typing in a field, `q` types a q: say how to quit from there (ctrl+q)
            binding, enabled, tooltip = hidden_quit
            seen["quit"] = (replace(binding, description="Quit", show=True), enabled, tooltip)
        return list(seen.values())

    def _item(self, binding: Binding) -> FooterItem:
        return FooterItem(self.app.get_key_display(binding), binding.description, binding.action)

    def compose(self) -> ComposeResult:
        """The keys that fit, then the palette hint if it fits too."""
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._laid_out_width = width
        shown = self._shown_bindings()
        items = [self._item(binding) for binding, _, _ in shown]
        kept = fit_keys(items, width, compact=self.compact)
        for index in kept:
            binding, enabled, tooltip = shown[index]
            yield FooterKey(
                binding.key,
                items[index].key_display,
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if active is None:
            return
        _, binding, enabled, tooltip = active
        if palette_fits(items, kept, self._item(binding), width, compact=self.compact):
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def on_resize(self, event: events.Resize) -> None:
        """Choose the keys again for the new width."""
        if event.size.width != self._laid_out_width:
            self._lay_out_again()

    def _watch_compact(self) -> None:
        """Compact keys are narrower: more of them may fit."""
        self._lay_out_again()

    def _watch_show_command_palette(self) -> None:
        """The palette hint comes or goes."""
        self._lay_out_again()

    def _lay_out_again(self) -> None:
        if self.is_attached and self._bindings_ready:
            self.call_after_refresh(self.recompose)
