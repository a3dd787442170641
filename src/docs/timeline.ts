// Renders a chargeCustomer history as an SVG timeline (attempts, waits, notifications, the end),
// for docs/dunning.md's picture of a dunning campaign. Reads only the history: what happened.
import proto from '@temporalio/proto';

type History = proto.temporal.api.history.v1.IHistory;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const { EventType } = proto.temporal.api.enums.v1;

/** One thing on the timeline, at a time relative to the workflow's start. */
export interface TimelineMark {
  atMs: number;
  lane: 'attempt' | 'wait' | 'notify' | 'end';
  label: string;
  /** For waits: when the timer fired (or was canceled). */
  untilMs?: number;
  ok?: boolean;
}

function millis(time: HistoryEvent['eventTime']): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

function summary(event: HistoryEvent): string {
  const data = event.userMetadata?.summary?.data;
  if (!data) return '';
  const text = new TextDecoder().decode(data);
  try {
    return String(JSON.parse(text));
  } catch (error) {
    // Summaries are JSON-encoded strings; a plain one is shown as it is.
    if (error instanceof SyntaxError) return text;
    throw error;
  }
}

/** The marks of a history: confirm attempts (declined or not), timers, notifications, the end. */
export function timelineMarks(history: History): TimelineMark[] {
  const events = history.events ?? [];
  const start = millis(events[0]?.eventTime);
  const scheduled = new Map<string, { name: string; summary: string; at: number }>();
  const timers = new Map<string, TimelineMark>();
  const marks: TimelineMark[] = [];
  let attempt = 0;
  for (const event of events) {
    const at = millis(event.eventTime) - start;
    const id = String(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
        scheduled.set(id, { name, summary: summary(event), at });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const ok = event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED;
        const ref = String(
          event.activityTaskCompletedEventAttributes?.scheduledEventId ??
            event.activityTaskFailedEventAttributes?.scheduledEventId,
        );
        const activity = scheduled.get(ref);
        if (activity?.name === 'confirmPaymentIntent') {
          marks.push({ atMs: activity.at, lane: 'attempt', label: `attempt ${++attempt}`, ok });
        } else if (activity?.name === 'notifyCustomer') {
          marks.push({
            atMs: activity.at,
            lane: 'notify',
            label: activity.summary.replace(/^notify customer: /, ''),
          });
        } else if (
          activity?.name === 'cancelPaymentIntent' ||
          activity?.name === 'runFinalAction'
        ) {
          marks.push({
            atMs: activity.at,
            lane: 'end',
            label: activity.name === 'runFinalAction' ? 'final action' : 'intent canceled',
          });
        }
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const mark: TimelineMark = { atMs: at, lane: 'wait', label: summary(event) };
        timers.set(id, mark);
        marks.push(mark);
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
      case EventType.EVENT_TYPE_TIMER_CANCELED: {
        const ref = String(
          event.timerFiredEventAttributes?.startedEventId ??
            event.timerCanceledEventAttributes?.startedEventId,
        );
        const timer = timers.get(ref);
        if (timer) timer.untilMs = at;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        marks.push({ atMs: at, lane: 'end', label: 'workflow completed' });
        break;
      default:
        break;
    }
  }
  return marks;
}

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An SVG picture of `marks`: a day axis, a lane per kind, labels from the history's summaries. */
export function timelineSvg(marks: TimelineMark[], title: string): string {
  const DAY = 24 * 3600 * 1000;
  const spanDays = Math.max(1, Math.ceil(Math.max(...marks.map((m) => m.untilMs ?? m.atMs)) / DAY));
  const [left, right, width] = [130, 30, 1000];
  const x = (ms: number) => left + ((width - left - right) * ms) / (spanDays * DAY);
  const lanes = { attempt: 90, wait: 150, notify: 230, end: 300 } as const;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="360" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="28" font-size="16" font-weight="bold">${escape(title)}</text>`,
  ];
  for (const [lane, y] of Object.entries(lanes)) {
    parts.push(
      `<text x="10" y="${y + 4}" fill="#555">${lane === 'attempt' ? 'confirm attempts' : lane === 'wait' ? 'durable timers' : lane === 'notify' ? 'notifications' : 'the end'}</text>`,
    );
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
  }
  for (let d = 0; d <= spanDays; d++) {
    parts.push(`<line x1="${x(d * DAY)}" x2="${x(d * DAY)}" y1="50" y2="325" stroke="#f3f3f3"/>`);
    parts.push(`<text x="${x(d * DAY)}" y="345" text-anchor="middle" fill="#555">day ${d}</text>`);
  }
  let waitRow = 0;
  const stacked = { notify: 0, end: 0, attempt: 0, wait: 0 };
  const lastX = { notify: -Infinity, end: -Infinity, attempt: -Infinity, wait: -Infinity };
  for (const mark of marks) {
    const cx = x(mark.atMs);
    if (mark.lane === 'attempt') {
      parts.push(
        `<circle cx="${cx}" cy="${lanes.attempt}" r="7" fill="${mark.ok ? '#2e7d32' : '#c62828'}"><title>${escape(mark.label)}</title></circle>`,
      );
      parts.push(
        `<text x="${cx}" y="${lanes.attempt - 12}" text-anchor="middle">${escape(mark.label.replace('attempt ', '#'))}</text>`,
      );
    } else if (mark.lane === 'wait') {
      const y = lanes.wait - 12 + (waitRow++ % 4) * 12;
      parts.push(
        `<rect x="${cx}" y="${y - 4}" width="${Math.max(2, x(mark.untilMs ?? mark.atMs) - cx)}" height="7" fill="#90caf9"><title>${escape(mark.label)}</title></rect>`,
      );
    } else {
      // Marks at (nearly) the same time stack their labels instead of overprinting them.
      const y = lanes[mark.lane];
      stacked[mark.lane] = Math.abs(cx - lastX[mark.lane]) < 60 ? stacked[mark.lane] + 1 : 0;
      lastX[mark.lane] = cx;
      parts.push(
        `<path d="M ${cx} ${y - 7} L ${cx + 7} ${y} L ${cx} ${y + 7} L ${cx - 7} ${y} Z" fill="${mark.lane === 'notify' ? '#f9a825' : '#555'}"/>`,
      );
      const labelY =
        mark.lane === 'notify'
          ? y + 18 + 13 * stacked[mark.lane]
          : y - 10 - 13 * stacked[mark.lane];
      parts.push(
        `<text x="${cx - 9}" y="${labelY}" text-anchor="end">${escape(mark.label)}</text>`,
      );
    }
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
