import { readFileSync } from 'node:fs'

/** The stylesheet every page links as `/style.css`: a plain file, no build step, no CDN. */
export const stylesheet = readFileSync(new URL('./style.css', import.meta.url), 'utf8')

/** Escapes text for HTML (element content and quoted attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )
}

/** A flashed message, as `auth.consumeFlashes()` returns them. */
export interface FlashView {
  readonly message: string
  readonly category: string
}

/** The flashed messages as banners; the category (`success`, `error`, …) picks the colour. */
export function flashList(flashes: readonly FlashView[]): string {
  return flashes
    .map((f) => {
      const kind = /^[a-z-]+$/.test(f.category) ? ` ${f.category}` : ''
      return `<p class="flash${kind}" role="status">${escapeHtml(f.message)}</p>`
    })
    .join('\n')
}

/** A POST form with one button: logging out, revoking a device. */
export function postButton(
  action: string,
  label: string,
  options: { fields?: Record<string, string>; style?: 'secondary' | 'danger' } = {},
): string {
  const hidden = Object.entries(options.fields ?? {})
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('')
  const style = options.style === undefined ? '' : ` class="${options.style}"`
  return `<form class="inline" method="POST" action="${escapeHtml(action)}">${hidden}<button type="submit"${style}>${escapeHtml(label)}</button></form>`
}

/** What a page is made of; `nav` and `body` are HTML. */
export interface PageParts {
  readonly title: string
  /** The example's name, shown beside the brand. */
  readonly example: string
  readonly nav: string
  readonly body: string
  readonly flashes?: readonly FlashView[]
}

/** A whole HTML page: header with navigation, flashed messages, the body, and a footer. */
export function page({ title, example, nav, body, flashes = [] }: PageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · login-manager</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><div class="bar"><a class="brand" href="/">login-manager<small>${escapeHtml(example)}</small></a><nav>${nav}</nav></div></header>
<main>
${flashList(flashes)}
${body}
</main>
<footer>Flask-Login's model for TypeScript. Log in as <code>leafstorm</code> with the password <code>secret</code>.</footer>
</body>
</html>
`
}

/** A secret for an example: SESSION_SECRET when set, else a random one for this process. */
export function exampleSecret(): string {
  const secret = process.env.SESSION_SECRET
  if (secret !== undefined && secret !== '') return secret
  console.warn(
    'SESSION_SECRET is not set: using a random secret, so logins end when the server restarts.',
  )
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}
