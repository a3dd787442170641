// Decodes Stripe's form encoding (`metadata[order_id]=o1`, `expand[]=x`, `expand[0]=x`) into
// nested values, the shape every request parameter schema reads.

/** A decoded parameter value: a string, or nested objects and arrays of them. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

/** A decoded parameter object. */
export type FormObject = { [key: string]: FormValue };

function decode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}

/** Splits `a[b][]` into `['a', 'b', '']`. Returns undefined for a malformed key. */
function keyPath(key: string): string[] | undefined {
  const open = key.indexOf('[');
  if (open === -1) return [key];
  const head = key.slice(0, open);
  const rest = key.slice(open);
  const segments = [...rest.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
  if (segments.map((s) => `[${s}]`).join('') !== rest || head === '') return undefined;
  return [head, ...segments];
}

function assign(target: FormObject, path: string[], value: string): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  if (rest[0] === '') {
    let list = target[head];
    if (!Array.isArray(list)) {
      list = [];
      target[head] = list;
    }
    if (rest.length === 1) {
      list.push(value);
    } else {
      const child: FormObject = {};
      list.push(child);
      assign(child, rest.slice(1), value);
    }
    return;
  }
  let child = target[head];
  if (child === undefined || typeof child === 'string' || Array.isArray(child)) {
    child = {};
    target[head] = child;
  }
  assign(child, rest, value);
}

/** Parses `application/x-www-form-urlencoded` (or a URL query) with Stripe's bracket nesting. */
export function parseForm(body: string): FormObject {
  const result: FormObject = {};
  if (body.trim() === '') return result;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const path = keyPath(decode(rawKey));
    if (!path) continue;
    assign(result, path, decode(rawValue));
  }
  return result;
}

/** Stripe's spelling of a parameter path in errors: `invoice_settings[default_payment_method]`. */
export function formatParamPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${head ?? ''}${rest.map((p) => `[${p}]`).join('')}`;
}
