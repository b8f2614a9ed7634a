// Invites created, used and expired per day (uPlot), and the conversion funnel
// created → activated → used, from `/api/ledger/stats`.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

import { get, withQuery } from "./api.js";
import { navigate, useLoad } from "./route.js";

const SERIES = [
  { key: "created", label: "created", stroke: "#2f6fdd" },
  { key: "used", label: "used", stroke: "#1f9d55" },
  { key: "expired", label: "expired", stroke: "#c2410c" },
];

const DAY = 86400;
const dayLabel = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

function DailyChart({ days }) {
  const box = useRef(null);
  useEffect(() => {
    const xs = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const data = [xs, ...SERIES.map((s) => days.map((d) => d[s.key]))];
    const plot = new uPlot(
      {
        width: Math.max(320, box.current.clientWidth || 800),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: {
          // Half a day of room on each side, so the first and last days show whole.
          x: { time: true, range: (_, min, max) => [min - DAY / 2, max + DAY / 2] },
          y: { range: (_, __, max) => [0, Math.max(1, max)] },
        },
        series: [
          { label: "day (UTC)" },
          ...SERIES.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            points: { show: true, size: 8 },
          })),
        ],
        axes: [
          // One tick per day at most, labelled with the day; whole invites up the side.
          { incrs: [DAY, 7 * DAY, 30 * DAY], values: (_, ticks) => ticks.map(dayLabel) },
          { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000], values: (_, ticks) => ticks.map(String) },
        ],
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [days]);
  // The axes' titles are text on the page (uPlot draws on a canvas), so they
  // can be read, selected and found.
  return (
    <figure class="chart chart-box" aria-label="Invites created, used and expired per day">
      <div class="axis-title y" id="y-axis-title">
        Invites
      </div>
      <div id="daily-chart" ref={box} />
      <div class="axis-title x" id="x-axis-title">
        Day (UTC)
      </div>
    </figure>
  );
}

function Funnel({ funnel }) {
  const steps = [
    ["created", funnel.created],
    ["activated", funnel.activated],
    ["used", funnel.used],
  ];
  const top = Math.max(1, funnel.created);
  return (
    <div class="funnel" id="funnel">
      {steps.map(([name, n]) => (
        <div class="step" key={name} data-step={name}>
          <span class="label">{name}</span>
          <span class="bar" style={{ width: `${(100 * n) / top}%` }} />
          <span class="n">
            {n} <small>({Math.round((100 * n) / top)}%)</small>
          </span>
        </div>
      ))}
    </div>
  );
}

export function Activity({ params }) {
  const { from, to } = params;
  const stats = useLoad(() => get(withQuery("/api/ledger/stats", { from, to })), [from, to]);
  const submit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const day = (name) => (form.get(name) ? `${form.get(name)}T00:00:00Z` : undefined);
    navigate("/activity", { from: day("from"), to: day("to") });
  };
  return (
    <section class="activity">
      <h2>Activity</h2>
      <form class="filters" onSubmit={submit} key={`${from}-${to}`}>
        <label>
          From <input type="date" name="from" defaultValue={from?.slice(0, 10) ?? ""} />
        </label>
        <label>
          before <input type="date" name="to" defaultValue={to?.slice(0, 10) ?? ""} />
        </label>
        <button type="submit">Show</button>
        <span class="note">Always today's ledger: the moment above does not apply here.</span>
      </form>
      {stats.error && <p class="error">{stats.error.message}</p>}
      {stats.data && (
        <>
          <h3>Per day (UTC)</h3>
          <DailyChart days={stats.data.days} />
          <h3>Conversion of the invites created in this range</h3>
          <Funnel funnel={stats.data.funnel} />
        </>
      )}
    </section>
  );
}
