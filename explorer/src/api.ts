// Every call the explorer makes is the public GraphQL API: POST /graphql with the bearer token.

import { signOut, token } from "./session";

/** A failed call, with the service's machine-readable code (`extensions.code`) and request id. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

interface GraphQLError {
  message: string;
  extensions?: { code?: string; requestId?: string; field?: string };
}

/** Raised when the token is missing or no longer accepted: the app goes back to sign-in. */
export const UNAUTHENTICATED = "UNAUTHENTICATED";

export async function gql<T>(query: string, variables: Record<string, unknown> = {}, secret?: string): Promise<T> {
  const bearer = secret ?? token();
  if (!bearer) throw new ApiError(UNAUTHENTICATED, "Sign in with a token first.");
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (exc) {
    throw new ApiError("NETWORK", `The service did not answer (${String(exc)}).`);
  }
  let body: { data?: T | null; errors?: GraphQLError[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP_${response.status}`, `The service answered ${response.status} without a GraphQL body.`);
  }
  const errors = body.errors ?? [];
  if (response.status === 401 || errors.some((e) => e.extensions?.code === UNAUTHENTICATED)) {
    if (!secret) signOut();
    const first = errors[0];
    throw new ApiError(UNAUTHENTICATED, first?.message ?? "The token was not accepted.", first?.extensions?.requestId ?? null);
  }
  if (errors.length) {
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new ApiError(
      first.extensions?.code ?? "ERROR",
      first.message + more,
      first.extensions?.requestId ?? response.headers.get("x-request-id"),
      first.extensions?.field ?? null,
    );
  }
  if (!body.data) throw new ApiError(`HTTP_${response.status}`, "The service answered without data.");
  return body.data;
}
