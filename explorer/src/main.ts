// The explorer: a single page served at / by the service, talking only to its public GraphQL API.

import "./styles.css";
import { ApiError, UNAUTHENTICATED } from "./api";
import { h } from "./dom";
import { impactPage } from "./pages/impact";
import { lineagePage } from "./pages/lineage";
import { modelVersionPage } from "./pages/modelVersion";
import { searchPage } from "./pages/search";
import { signInPage } from "./pages/signin";
import { tracePage } from "./pages/trace";
import { usesPage } from "./pages/uses";
import { current, go, href, type Route } from "./router";
import * as session from "./session";
import { errorBox } from "./ui";

export type Page = (root: HTMLElement, route: Route, leave: (cleanup: () => void) => void) => Promise<void>;

const PAGES: Record<string, Page> = {
  signin: signInPage,
  search: searchPage,
  lineage: lineagePage,
  uses: usesPage,
  trace: tracePage,
  impact: impactPage,
  "model-version": modelVersionPage,
};

const NAV: [string, string][] = [
  ["search", "Search"],
  ["lineage", "Lineage"],
  ["uses", "Uses of a source"],
  ["trace", "Trace an inference"],
  ["impact", "Impact of a source"],
  ["model-version", "Model version"],
];

let cleanups: (() => void)[] = [];

async function show(): Promise<void> {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  const route = current();
  renderBar(route);
  const main = document.getElementById("main")!;
  if (route.page !== "signin" && !session.token()) {
    go(href("signin", "", { next: location.hash || "#/search" }));
    return;
  }
  // Each visit draws into a fresh element: a slow answer for a page already left lands nowhere.
  const root = h("div", { class: `page page-${route.page}` });
  main.replaceChildren(root);
  const page = PAGES[route.page];
  if (!page) {
    root.append(h("h1", null, "No such page"), h("p", null, h("a", { href: "#/search" }, "Search the graph")));
    return;
  }
  try {
    await page(root, route, (cleanup) => cleanups.push(cleanup));
  } catch (exc) {
    failed(root, exc);
  }
}

/** Show an error where the page would have been; a token no longer accepted goes back to sign-in. */
export function failed(root: HTMLElement, exc: unknown): void {
  if (exc instanceof ApiError && exc.code === UNAUTHENTICATED) {
    session.signOut();
    go(href("signin", "", { next: location.hash, reason: exc.message }));
    return;
  }
  root.querySelectorAll(".loading").forEach((el) => el.remove());
  // A picture that was never drawn is only an empty frame: the error takes its place, under the form.
  root.querySelectorAll(".graph-page").forEach((el) => {
    if (!el.querySelector(".graph[data-ready]")) el.remove();
  });
  const box = errorBox(exc);
  const form = root.querySelector(":scope > .controls");
  if (form) form.after(box);
  else root.append(box);
}

function renderBar(route: Route): void {
  const nav = document.getElementById("nav")!;
  const signedIn = Boolean(session.token());
  nav.replaceChildren(
    ...(signedIn
      ? [
          ...NAV.map(([page, text]) => h("a", { href: `#/${page}`, class: page === route.page ? "active" : null }, text)),
          h("a", { href: "/graphql", title: "GraphiQL (development servers only)" }, "GraphiQL"),
        ]
      : []),
  );
  const who = session.who();
  document.getElementById("who")!.replaceChildren(
    ...(signedIn && who
      ? [
          h("span", { class: "principal" }, `${who.name} (${who.role.toLowerCase()})`),
          h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: () => {
                session.signOut();
                go(href("signin"));
              },
            },
            "Sign out",
          ),
        ]
      : []),
  );
}

window.addEventListener("hashchange", () => void show());
void show();
