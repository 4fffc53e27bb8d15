// Hash routes, so every page has a URL that can be shared and the service needs only one HTML page:
//   #/search?text=…&kinds=…          #/lineage/<nodeId>?direction=…&depth=…&types=…&asOf=…
//   #/uses/<sourceId>?stage=…&asOf=… #/trace/<inferenceId>       #/impact/<sourceId>?asOf=…
//   #/model-version/<id>?compare=<otherId>                        #/signin?next=<route>

export interface Route {
  page: string;
  id: string;
  params: URLSearchParams;
}

export function current(): Route {
  return parse(location.hash);
}

export function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, query = ""] = splitOnce(raw, "?");
  const [page, id = ""] = splitOnce(path, "/");
  return { page: page || "search", id: safeDecode(id), params: new URLSearchParams(query) };
}

export function href(page: string, id = "", params: Record<string, string | null | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const tail = query.toString();
  return `#/${page}${id ? "/" + encodeURIComponent(id) : ""}${tail ? "?" + tail : ""}`;
}

export function go(target: string): void {
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = target;
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `asOf` in a URL is a date (the end of that day, UTC) or a full ISO time; the API wants a time. */
export function asOfTime(value: string | null): string | null {
  if (!value) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59Z` : value;
}
