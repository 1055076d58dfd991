// The account example's pages. Every page shows the flashed messages; forms keep `next`.
import type { SessionInfo } from 'login-manager'
import { escapeHtml, type FlashView, page, postButton } from '../shared/html.ts'
import type { Account } from './users.ts'

const EXAMPLE = 'account example'

function nav(account: Account | null): string {
  if (account === null) return '<a class="button" href="/login">Log in</a>'
  return `<a href="/account">Account</a> <a href="/account/devices">Your devices</a> ${postButton('/logout', 'Log out', { style: 'secondary' })}`
}

const alert = (error: string | undefined) =>
  error === undefined ? '' : `<p class="flash error" role="alert">${escapeHtml(error)}</p>`

const withNext = (path: string, next: string | null) =>
  next === null ? path : `${path}?next=${encodeURIComponent(next)}`

export function homePage(account: Account | null, flashes: readonly FlashView[]): string {
  const body =
    account === null
      ? `<section class="card"><h1>Welcome</h1>
<p>This example shows what an account area needs around a login: "remember me", a password check before account changes, messages that survive a redirect, and a list of your devices.</p>
<div class="actions"><a class="button" href="/login">Log in</a> <a href="/account">Your account</a></div></section>`
      : `<section class="card"><h1>Welcome, ${escapeHtml(account.name)}</h1>
<p>You are logged in as <strong>${escapeHtml(account.id)}</strong>.</p>
<div class="actions"><a class="button" href="/account">Your account</a> <a href="/account/devices">Your devices</a></div></section>`
  return page({ title: 'Home', example: EXAMPLE, nav: nav(account), body, flashes })
}

export interface LoginForm {
  readonly next: string | null
  readonly flashes: readonly FlashView[]
  readonly error?: string | undefined
  readonly username?: string | undefined
}

export function loginPage({ next, flashes, error, username = '' }: LoginForm): string {
  const body = `<form class="card" method="POST" action="${escapeHtml(withNext('/login', next))}">
<h1>Log in</h1>
${alert(error)}
<label for="username">User name</label>
<input type="text" name="username" id="username" value="${escapeHtml(username)}" autocomplete="username" required${username === '' ? ' autofocus' : ''}>
<label for="password">Password</label>
<input type="password" name="password" id="password" autocomplete="current-password" required${username === '' ? '' : ' autofocus'}>
<label class="check"><input type="checkbox" name="remember" id="remember"> Remember me for 30 days</label>
<div class="actions"><button type="submit">Log in</button></div>
</form>`
  return page({ title: 'Log in', example: EXAMPLE, nav: nav(null), body, flashes })
}

export interface AccountView {
  readonly account: Account
  /** The password was typed in this browser session (not restored by remember-me). */
  readonly fresh: boolean
  /** This browser holds a remember-me cookie for the account. */
  readonly remembered: boolean
  /** Sessions live in a store: the devices page can list and end them. */
  readonly devices: boolean
  readonly flashes: readonly FlashView[]
}

export function accountPage({ account, fresh, remembered, devices, flashes }: AccountView): string {
  const login = fresh
    ? 'You entered your password in this browser session, so you can change your account right away.'
    : 'This browser logged you in with its remember-me cookie. Changing your account asks for your password first.'
  const devicesPart = devices
    ? '<p>See where else you are logged in, and log those devices out.</p><div class="actions"><a class="button secondary" href="/account/devices">Your devices</a></div>'
    : '<p class="muted">Listing your devices needs server-side sessions: start the example with <code>SESSION_STORE=memory</code> (or <code>redis</code>).</p>'
  const body = `<section class="card"><h1>Your account</h1>
<dl>
<dt>Name</dt><dd>${escapeHtml(account.name)}</dd>
<dt>User name</dt><dd>${escapeHtml(account.id)}</dd>
<dt>E-mail</dt><dd>${escapeHtml(account.email)} · <a href="/account/email">Change</a></dd>
<dt>This login</dt><dd>${fresh ? 'fresh' : 'remembered'}${remembered ? ', remembered on this browser' : ''}</dd>
</dl>
<p class="muted">${login}</p>
</section>
<section class="card"><h2>Devices</h2>
${devicesPart}
</section>`
  return page({ title: 'Your account', example: EXAMPLE, nav: nav(account), body, flashes })
}

export function emailPage(account: Account, flashes: readonly FlashView[], error?: string): string {
  const body = `<form class="card" method="POST" action="/account/email">
<h1>Change your e-mail address</h1>
${alert(error)}
<label for="email">New e-mail address</label>
<input type="email" name="email" id="email" value="${escapeHtml(account.email)}" autocomplete="email" required autofocus>
<div class="actions"><button type="submit">Change e-mail</button> <a href="/account">Cancel</a></div>
</form>`
  return page({ title: 'Change e-mail', example: EXAMPLE, nav: nav(account), body, flashes })
}

export interface ReauthenticateForm {
  readonly account: Account
  readonly next: string | null
  readonly flashes: readonly FlashView[]
  readonly error?: string | undefined
}

export function reauthenticatePage({ account, next, flashes, error }: ReauthenticateForm): string {
  const body = `<form class="card" method="POST" action="${escapeHtml(withNext('/reauthenticate', next))}">
<h1>Confirm it is you</h1>
${alert(error)}
<p>You are logged in as <strong>${escapeHtml(account.id)}</strong> from an earlier visit ("remember me"). Enter your password to continue.</p>
<input type="text" name="username" value="${escapeHtml(account.id)}" autocomplete="username" hidden>
<label for="password">Password</label>
<input type="password" name="password" id="password" autocomplete="current-password" required autofocus>
<div class="actions"><button type="submit">Continue</button> <a href="/account">Cancel</a></div>
</form>`
  return page({
    title: 'Confirm your password',
    example: EXAMPLE,
    nav: nav(account),
    body,
    flashes,
  })
}

/** A time in the past, in words: "just now", "5 minutes ago", "3 hours ago", "2 days ago". */
export function ago(seconds: number, now: number): string {
  const elapsed = Math.max(0, Math.floor(now - seconds))
  if (elapsed < 60) return 'just now'
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ] as const) {
    const count = Math.floor(elapsed / size)
    if (count >= 1) return `${count} ${unit}${count === 1 ? '' : 's'} ago`
  }
  return 'just now'
}

export interface DevicesView {
  readonly account: Account
  /** null with cookie sessions, which cannot be listed. */
  readonly sessions: readonly SessionInfo[] | null
  /** The handle of this request's session (`auth.sessionHandle`). */
  readonly current: string | undefined
  /** Seconds since the epoch. */
  readonly now: number
  readonly flashes: readonly FlashView[]
}

export function devicesPage({ account, sessions, current, now, flashes }: DevicesView): string {
  let content: string
  if (sessions === null) {
    content = `<p>Listing and ending sessions needs them on the server. With the default cookie sessions, a session lives in the browser's cookie only, so there is nothing to list.</p>
<p class="muted">Start the example with <code>SESSION_STORE=memory</code> (or <code>SESSION_STORE=redis</code>) and log in from a second browser.</p>`
  } else {
    const rows = sessions
      .map((s) => {
        const mine = s.handle === current
        const label = mine ? 'This device<span class="badge">you are here</span>' : 'Another device'
        const action = mine
          ? postButton('/logout', 'Log out', { style: 'secondary' })
          : postButton('/account/devices/revoke', 'Log out this device', {
              fields: { handle: s.handle },
              style: 'danger',
            })
        return `<li><div><strong>${label}</strong><br><span class="muted">Logged in ${ago(s.createdAt, now)} · active ${ago(s.lastActive, now)}</span></div>${action}</li>`
      })
      .join('\n')
    const others = sessions.some((s) => s.handle !== current)
    content = `<p>Every browser where you are logged in right now.</p>
<ul class="devices">
${rows}
</ul>
<div class="actions">${others ? postButton('/account/devices/logout-others', 'Log out other devices') : '<span class="muted">No other device is logged in.</span>'}</div>
<p class="muted">Logging a device out also ends its "remember me". A browser that is only remembered (it was closed) appears here again when it next visits; "Log out other devices" ends those too.</p>`
  }
  const body = `<section class="card"><h1>Your devices</h1>
${content}
</section>`
  return page({ title: 'Your devices', example: EXAMPLE, nav: nav(account), body, flashes })
}
