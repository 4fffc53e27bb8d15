// Pieces every page uses: error boxes, loading notes, the date picker.

import { ApiError } from "./api";
import { h } from "./dom";
import { COLOURS, KINDS } from "./kinds";

/** An API error as a person can act on it: what failed, its code, and the request id to quote. */
export function errorBox(exc: unknown): HTMLElement {
  if (exc instanceof ApiError) {
    return h(
      "div",
      { class: "error", role: "alert", "data-code": exc.code },
      h("strong", null, exc.code),
      " ",
      exc.message,
      exc.field && h("span", { class: "muted" }, ` (field ${exc.field})`),
      exc.requestId && h("span", { class: "muted request-id" }, ` — request id ${exc.requestId}`),
    );
  }
  return h("div", { class: "error", role: "alert", "data-code": "CLIENT" }, h("strong", null, "Error"), " ", String(exc));
}

export function loading(what: string): HTMLElement {
  return h("p", { class: "muted loading" }, `Loading ${what}…`);
}

/** A date picker for `asOf`: empty means now. */
export function asOfInput(value: string | null): HTMLInputElement {
  return h("input", { type: "date", name: "asOf", value: value ? value.slice(0, 10) : "", title: "As of the end of this day (UTC); empty: now" });
}

export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", null, label), control);
}

export function select(name: string, options: [string, string][], value: string | null): HTMLSelectElement {
  return h(
    "select",
    { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text)),
  );
}

/** What the colours and borders of the graph mean. */
export function legend(): HTMLElement {
  return h(
    "div",
    { class: "legend" },
    KINDS.map((k) => h("span", { class: "swatch", style: `background:${COLOURS[k]}` }, k)),
    h("span", { class: "swatch excluded" }, "excluded source"),
    h("span", { class: "swatch production" }, "production version"),
    h("span", { class: "swatch start" }, "start / emphasised"),
    h("span", { class: "muted" }, "Arrows point from the derived thing to what it came from."),
  );
}
