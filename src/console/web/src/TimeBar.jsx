// The moment being looked at: a slider from the ledger's first event to now (in
// milliseconds, the precision of the times the API shows) and the same moment as
// text. Every view re-renders `as_of` that moment; "Live" goes back to now.
import { useEffect, useRef, useState } from "preact/hooks";

import { get, fmtTime } from "./api.js";

const SETTLE_MS = 250;

export function TimeBar({ asOf, onChange }) {
  const [range, setRange] = useState(null);
  const [value, setValue] = useState(null);
  const [text, setText] = useState(asOf ?? "");
  const [bad, setBad] = useState(false);
  const timer = useRef(null);

  const loadRange = async () => {
    const { events } = await get("/api/ledger/events?limit=1");
    const first = events[0] ? Date.parse(events[0].recordedAt) : Date.now();
    setRange({ min: first, max: Math.max(Date.now(), first + 1) });
  };
  useEffect(() => {
    loadRange().catch(() => setRange(null));
  }, []);
  useEffect(() => {
    setText(asOf ?? "");
    setValue(asOf ? Date.parse(asOf) : null);
    setBad(false);
  }, [asOf]);

  const commit = (ms) => {
    clearTimeout(timer.current);
    if (range && ms >= range.max) onChange(null);
    else onChange(new Date(ms).toISOString());
  };
  const slide = (event) => {
    const ms = Number(event.currentTarget.value);
    setValue(ms);
    setText(new Date(ms).toISOString());
    clearTimeout(timer.current);
    timer.current = setTimeout(() => commit(ms), SETTLE_MS);
  };
  const typed = (event) => {
    event.preventDefault();
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) return setBad(true);
    setBad(false);
    commit(ms);
  };
  const live = () => {
    clearTimeout(timer.current);
    onChange(null);
    loadRange().catch(() => {});
  };

  const shown = value ?? range?.max ?? 0;
  return (
    <form class={`time-bar ${asOf ? "past" : "live"}`} onSubmit={typed}>
      <span class="time-state" id="as-of-state">
        {asOf ? `As of ${fmtTime(asOf)}` : "Live"}
      </span>
      {range && (
        <input
          id="as-of-slider"
          type="range"
          aria-label="Moment to look at"
          min={range.min}
          max={range.max}
          step="1"
          value={Math.min(Math.max(shown, range.min), range.max)}
          onInput={slide}
          onChange={(event) => commit(Number(event.currentTarget.value))}
        />
      )}
      <input
        id="as-of-input"
        class={bad ? "invalid" : ""}
        aria-label="Moment to look at (RFC 3339)"
        placeholder="now (or e.g. 2026-03-01T09:00:00Z)"
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
      />
      <button type="submit">Go</button>
      <button type="button" onClick={live} disabled={!asOf}>
        Live
      </button>
      {range && (
        <span class="range-note">
          {fmtTime(new Date(range.min).toISOString())} — now
        </span>
      )}
    </form>
  );
}
