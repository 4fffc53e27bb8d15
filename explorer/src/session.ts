// The signed-in token lives in sessionStorage: it is gone when the tab closes, and other tabs and sites
// never see it. GraphiQL (served from the same origin) reads the same key.

const TOKEN = "provgraph.token";
const WHO = "provgraph.who";

export interface Principal {
  name: string;
  role: string;
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN);
}

export function signIn(secret: string, who: Principal): void {
  sessionStorage.setItem(TOKEN, secret);
  sessionStorage.setItem(WHO, JSON.stringify(who));
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(WHO);
}

export function who(): Principal | null {
  const raw = sessionStorage.getItem(WHO);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Principal;
  } catch {
    return null;
  }
}
