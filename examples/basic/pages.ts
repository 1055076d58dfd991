// The basic example's pages: Flask-Login's README example (the same routes, the same texts:
// "Logged in as: …", "Logged out"), with labels, a stylesheet and a way back from every page.
import { escapeHtml, type FlashView, page, postButton } from '../shared/html.ts'
import type { User } from './users.ts'

const EXAMPLE = 'basic example'

function nav(user: User | null): string {
  return user === null
    ? '<a href="/protected">Protected page</a> <a class="button" href="/login">Log in</a>'
    : `<a href="/protected">Protected page</a> <span class="muted">${escapeHtml(user.id)}</span> ${postButton('/logout', 'Log out', { style: 'secondary' })}`
}

/** `GET /`: says who is logged in, and offers what makes sense for them. */
export function homePage(user: User | null): string {
  const body =
    user === null
      ? `<section class="card"><h1>Welcome</h1>
<p>You are not logged in. The protected page sends you to the login form first, and back again afterwards.</p>
<div class="actions"><a class="button" href="/login">Log in</a> <a href="/protected">Protected page</a></div></section>`
      : `<section class="card"><h1>Welcome back</h1>
<p>You are logged in as <strong>${escapeHtml(user.id)}</strong>.</p>
<div class="actions"><a class="button" href="/protected">Protected page</a> ${postButton('/logout', 'Log out', { style: 'secondary' })}</div></section>`
  return page({ title: 'Home', example: EXAMPLE, nav: nav(user), body })
}

/** What the login form shows besides its fields. */
export interface LoginForm {
  /** Where to go after logging in (the guard's `next`); the form posts it back. */
  readonly next: string | null
  readonly flashes: readonly FlashView[]
  /** Set after a failed attempt. */
  readonly error?: string | undefined
  /** The user name typed in the failed attempt, to type it only once. */
  readonly username?: string | undefined
}

/** `GET /login`, and `POST /login` after a failed attempt (with `error`). */
export function loginPage({ next, flashes, error, username = '' }: LoginForm): string {
  const action = next === null ? '/login' : `/login?next=${encodeURIComponent(next)}`
  const alert =
    error === undefined ? '' : `<p class="flash error" role="alert">${escapeHtml(error)}</p>`
  // The field is named `email`, as in Flask-Login's README; it holds the user name.
  const body = `<form class="card" action="${escapeHtml(action)}" method="POST">
<h1>Log in</h1>
${alert}
<label for="email">User name</label>
<input type="text" name="email" id="email" value="${escapeHtml(username)}" autocomplete="username" required${username === '' ? ' autofocus' : ''}>
<label for="password">Password</label>
<input type="password" name="password" id="password" autocomplete="current-password" required${username === '' ? '' : ' autofocus'}>
<label class="check"><input type="checkbox" name="remember" id="remember"> Remember me on this browser</label>
<div class="actions"><button type="submit">Log in</button> <a href="/">Cancel</a></div>
</form>`
  return page({ title: 'Log in', example: EXAMPLE, nav: nav(null), body, flashes })
}

/** The message of a failed login: Flask-Login's "Bad login", said on the form. */
export const BAD_LOGIN = 'Bad login: that user name and password do not match.'

/** `GET /protected`, behind the login guard. */
export function protectedPage(user: User): string {
  const body = `<section class="card"><h1>Protected page</h1>
<p>Logged in as: ${escapeHtml(user.id)}</p>
<div class="actions">${postButton('/logout', 'Log out')} <a href="/">Home</a></div></section>`
  return page({ title: 'Protected page', example: EXAMPLE, nav: nav(user), body })
}

/** `/logout`, after the login has ended. */
export function loggedOutPage(): string {
  const body = `<section class="card"><h1>Logged out</h1>
<p>Your session has ended on this browser, and so has "remember me".</p>
<div class="actions"><a class="button" href="/login">Log in again</a> <a href="/">Home</a></div></section>`
  return page({ title: 'Logged out', example: EXAMPLE, nav: nav(null), body })
}
