// Sign in by pasting a token. It is checked with `whoami` and then kept for this tab only.

import { gql } from "../api";
import { h } from "../dom";
import type { Page } from "../main";
import { go, type Route } from "../router";
import * as session from "../session";
import { errorBox } from "../ui";

export const signInPage: Page = async (root: HTMLElement, route: Route) => {
  const next = route.params.get("next") || "#/search";
  const reason = route.params.get("reason");
  const input = h("input", {
    type: "password",
    name: "token",
    autocomplete: "off",
    placeholder: "pgt_…",
    required: true,
    "aria-label": "Bearer token",
  });
  const status = h("div", { class: "status" });
  const form = h(
    "form",
    { class: "signin" },
    h("h1", null, "Sign in"),
    reason && h("div", { class: "error", role: "alert", "data-code": "UNAUTHENTICATED" }, h("strong", null, "Signed out"), ` ${reason}`),
    h("p", null, "Paste a bearer token. It is kept in this browser tab only (sessionStorage) and sent to this service alone."),
    h("label", { class: "field wide" }, h("span", null, "Token"), input),
    h("button", { type: "submit" }, "Sign in"),
    status,
    h(
      "p",
      { class: "muted" },
      "On a development server, ",
      h("code", null, "provgraph token dev"),
      " prints an admin token; ",
      h("code", null, "provgraph token create --name you --role reader"),
      " makes a read-only one.",
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const secret = input.value.trim();
    status.replaceChildren(h("p", { class: "muted" }, "Checking the token…"));
    try {
      const data = await gql<{ whoami: session.Principal }>("{ whoami { name role } }", {}, secret);
      session.signIn(secret, data.whoami);
      go(next.startsWith("#/signin") ? "#/search" : next);
    } catch (exc) {
      status.replaceChildren(errorBox(exc));
    }
  });
  root.append(form);
  input.focus();
};
