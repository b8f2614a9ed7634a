// The plugin's only way to the ledger: JSON over HTTP with the companion API key,
// a timeout on every call, an `Idempotency-Key` on every command, and the handshake
// (`hello`) made lazily before the first call and again when the ledger forgets us.
import { randomUUID } from "node:crypto";

/** The acting Better Auth user, as the ledger records them. */
export type Actor = { id: string; email: string; name?: string | null; role?: string | null };

/** What the ledger says about itself and the callback it will sign for. */
export type Hello = {
  signingSecret: string;
  inviteOnly?: boolean;
  ledgerVersion?: string;
  [field: string]: unknown;
};

/** A refusal from the ledger: its status and `{code, message}`, kept as they came. */
export class LedgerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "LedgerRefusal";
  }
}

/** The ledger could not be reached, timed out, or failed (5xx): nothing was decided that we know of. */
export class LedgerUnavailable extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "LedgerUnavailable";
  }
}

export type LedgerClientOptions = {
  ledgerUrl: string;
  apiKey: string;
  /** Milliseconds a call may take before it is abandoned. */
  timeoutMs: number;
  /** Where the ledger sends signed role repairs and `user.exists` questions. */
  callbackUrl: () => string;
  fetch: typeof fetch;
};

export class LedgerClient {
  private hello: Promise<Hello> | null = null;

  constructor(private readonly options: LedgerClientOptions) {}

  /** The handshake's answer (made once, shared by concurrent callers). */
  handshake(): Promise<Hello> {
    if (!this.hello) {
      this.hello = this.send<Hello>("/api/companion/hello", { callbackUrl: this.options.callbackUrl() }, undefined).catch(
        (error) => {
          this.hello = null; // the next call tries again
          throw error;
        },
      );
    }
    return this.hello;
  }

  /**
   * A command or query under `/api/companion/`. `idempotencyKey` makes a retry answer
   * the first answer; without one, a fresh key still covers this call's own retry.
   */
  async call<T>(path: string, body: unknown, idempotencyKey?: string): Promise<T> {
    await this.handshake();
    const key = idempotencyKey ?? randomUUID();
    try {
      return await this.sendWithRetry<T>(`/api/companion/${path}`, body, key);
    } catch (error) {
      if (error instanceof LedgerRefusal && error.code === "COMPANION_UNKNOWN") {
        this.hello = null;
        await this.handshake();
        return this.sendWithRetry<T>(`/api/companion/${path}`, body, key);
      }
      throw error;
    }
  }

  /**
   * A call that needs no handshake (the organization routes: the ledger calls
   * nothing back for them), retried as every call.
   */
  async callWithoutHandshake<T>(path: string, body: unknown, idempotencyKey?: string): Promise<T> {
    return this.sendWithRetry<T>(`/api/companion/${path}`, body, idempotencyKey ?? randomUUID());
  }

  /**
   * Retries with the same key (the ledger answers the first answer): once after a
   * network failure or a 5xx, and while a twin request with the key is still being
   * answered (409 IDEMPOTENCY_KEY_IN_USE), a bounded number of times.
   */
  private async sendWithRetry<T>(path: string, body: unknown, key: string): Promise<T> {
    let unavailableRetries = 1;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>(path, body, key);
      } catch (error) {
        const twinInFlight = error instanceof LedgerRefusal && error.code === "IDEMPOTENCY_KEY_IN_USE" && attempt < 20;
        const retryUnavailable = error instanceof LedgerUnavailable && unavailableRetries-- > 0;
        if (!twinInFlight && !retryUnavailable) throw error;
        await new Promise((resolve) => setTimeout(resolve, twinInFlight ? 50 : 100));
      }
    }
  }

  private async send<T>(path: string, body: unknown, key: string | undefined): Promise<T> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      authorization: `Bearer ${this.options.apiKey}`,
    };
    if (key) headers["idempotency-key"] = key;
    let response: Response;
    try {
      response = await this.options.fetch(new URL(path, this.options.ledgerUrl), {
        method: "POST",
        headers,
        body: JSON.stringify(body ?? {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new LedgerUnavailable(`invite-ledger did not answer ${path}`, error);
    }
    const text = await response.text().catch(() => "");
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (response.ok) return json as T;
    if (response.status >= 500 || !json || typeof json.code !== "string") {
      throw new LedgerUnavailable(`invite-ledger answered ${response.status} to ${path}: ${text.slice(0, 200)}`);
    }
    throw new LedgerRefusal(response.status, json.code, json.message ?? json.code);
  }
}
