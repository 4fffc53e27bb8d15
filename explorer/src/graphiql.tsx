// GraphiQL from local assets (no CDN), with the explorer's signed-in token applied before the first
// request: the schema is fetched with it, so Docs and autocomplete work at once. The token comes from
// sessionStorage (the same tab's sign-in); without one, this page asks for it first.

import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { createRoot } from "react-dom/client";
import "./graphiql.css";

const TOKEN = "provgraph.token";
const EXAMPLE = `# Signed in: Docs (the book icon) and autocomplete (Ctrl-Space) already know the schema.
# Which production models used data from the forum scrape, and why?
{
  modelsUsingSource(sourceId: "source:forum-scrape", stage: PRODUCTION) {
    totalCount
    items { modelVersion { id } stage deployments { endpointId } paths { nodeIds } }
  }
}
`;

type Params = { query: string; variables?: unknown; operationName?: string | null };
type Options = { headers?: Record<string, string> };

function fetcherFor(token: string) {
  return async (params: Params, options?: Options): Promise<unknown> => {
    // Headers typed into GraphiQL's Headers tab win (to try another token); the signed-in one is the default.
    const typed = Object.fromEntries(Object.entries(options?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...typed },
      body: JSON.stringify(params),
    });
    if (response.status === 401 && !typed.authorization) {
      sessionStorage.removeItem(TOKEN);
      showSignIn("The token was not accepted (expired or revoked?). Sign in again.");
    }
    return response.json();
  };
}

function bar(children: (Node | string)[]): void {
  document.getElementById("graphiql-bar")!.replaceChildren(...children);
}

function link(href: string, text: string): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function showSignIn(message = ""): void {
  const form = document.createElement("form");
  form.className = "graphiql-signin";
  const input = document.createElement("input");
  input.type = "password";
  input.placeholder = "pgt_…";
  input.setAttribute("aria-label", "Bearer token");
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = "Use this token";
  const note = document.createElement("p");
  note.textContent = message || "Paste a bearer token; it stays in this tab only. The schema is then loaded with it.";
  form.append(note, input, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN, value);
    location.reload();
  });
  bar([link("/", "← provgraph explorer")]);
  document.getElementById("graphiql")!.replaceChildren(form);
}

function start(): void {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) {
    showSignIn();
    return;
  }
  const signOut = document.createElement("button");
  signOut.type = "button";
  signOut.textContent = "Sign out";
  signOut.addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN);
    showSignIn();
  });
  bar([link("/", "← provgraph explorer"), " · GraphiQL with your signed-in token · ", signOut]);
  const fetcher = fetcherFor(token);
  createRoot(document.getElementById("graphiql")!).render(<GraphiQL fetcher={fetcher} defaultQuery={EXAMPLE} defaultEditorToolsVisibility={false} />);
}

start();
