import { useId } from "react";
import { type DayBar, dayLabel, periodLabel } from "./usage-series";

const BAR = 10;
const HEIGHT = 100;

/**
 * Requests per day over the month, drawn server-side as SVG. The picture is labelled and described
 * for screen readers, and the same numbers are in a visually hidden table.
 */
export function UsageChart({ period, bars, today }: { period: string; bars: DayBar[]; today: string }) {
  const id = useId();
  const max = Math.max(0, ...bars.map((b) => b.requests));
  const total = bars.reduce((n, b) => n + b.requests, 0);
  const busiest = bars.reduce<DayBar | null>((best, b) => (b.requests > (best?.requests ?? 0) ? b : best), null);
  const title = `Requests per day, ${periodLabel(period)}`;
  const summary = busiest
    ? `${total.toLocaleString("en-US")} requests this month; busiest day ${dayLabel(busiest.day)} with ${busiest.requests.toLocaleString("en-US")}.`
    : "No requests this month yet.";
  const upToToday = bars.filter((b) => b.day <= today);

  return (
    <figure className="flex flex-col gap-2">
      <div className="flex items-baseline justify-between text-xs text-zinc-500">
        <span>{max > 0 ? `${max.toLocaleString("en-US")} / day` : "0 / day"}</span>
        <span aria-hidden="true">{summary}</span>
      </div>
      <svg
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        viewBox={`0 0 ${bars.length * BAR} ${HEIGHT}`}
        preserveAspectRatio="none"
        className="h-40 w-full rounded-lg border border-zinc-800 bg-zinc-950"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {bars.map((b, i) => {
          const h = max > 0 ? Math.max(b.requests > 0 ? 1.5 : 0, (b.requests / max) * (HEIGHT - 4)) : 0;
          const fill = b.day === today ? "fill-amber-300" : b.day < today ? "fill-amber-500/70" : "fill-zinc-800";
          return (
            <rect key={b.day} x={i * BAR + 1.5} y={HEIGHT - h} width={BAR - 3} height={h} className={fill}>
              <title>{`${dayLabel(b.day)}: ${b.requests.toLocaleString("en-US")} requests`}</title>
            </rect>
          );
        })}
      </svg>
      <div aria-hidden="true" className="flex justify-between text-xs text-zinc-500">
        <span>{dayLabel(bars[0]?.day ?? `${period}-01`)}</span>
        <span>{dayLabel(bars[bars.length - 1]?.day ?? `${period}-01`)}</span>
      </div>
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Requests</th>
          </tr>
        </thead>
        <tbody>
          {upToToday.map((b) => (
            <tr key={b.day}>
              <th scope="row">{dayLabel(b.day)}</th>
              <td>{b.requests}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
