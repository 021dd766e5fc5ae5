// A WebSocket that reconnects by itself and resumes where it left off (no dependencies).
//
// new LiveSocket({path, query, onMessage, onStatus}) opens `path` on this page's host
// (ws: or wss: like the page), calls onMessage(parsed JSON) for each message and
// onStatus(status, detail) with "connecting" | "live" | "reconnecting" | "offline".
// `query()` is called before every (re)connection, so a stream resumes with the
// after_seq it has reached. Closes the server means for good (4400 bad request,
// 4401 signed out, 4403 membership revoked, 4404 not found) stop it; anything else
// (a dropped network, a restarted server, 4429 too slow) reconnects with backoff.

const FINAL_CODES = new Set([4400, 4401, 4403, 4404]);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;

export class LiveSocket {
  constructor({ path, query = () => "", onMessage, onStatus = () => {} }) {
    this.path = path;
    this.query = query;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.delay = FIRST_DELAY_MS;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
    addEventListener("pagehide", () => this.stop());
    this.open();
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.query();
    return `${scheme}//${location.host}${this.path}${query ? `?${query}` : ""}`;
  }

  open() {
    if (this.stopped) return;
    this.onStatus(this.socket ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = FIRST_DELAY_MS;
      this.onStatus("live");
    });
    socket.addEventListener("message", (message) => {
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        return;
      }
      this.onMessage(parsed);
    });
    socket.addEventListener("close", (closed) => {
      if (socket !== this.socket || this.stopped) return;
      if (FINAL_CODES.has(closed.code)) {
        this.stopped = true;
        this.onStatus("offline", closed.reason || String(closed.code));
        return;
      }
      this.onStatus("reconnecting", closed.reason || "");
      const jitter = Math.random() * 0.3 * this.delay;
      const wait = closed.code === 4429 ? 0 : this.delay + jitter;
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
      this.timer = setTimeout(() => this.open(), wait);
    });
  }

  // Drop the connection as a network failure would (it reconnects); for tests and debugging.
  drop() {
    if (this.socket) this.socket.close(4000, "dropped by the page");
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "page closed");
  }
}
