/** The login form every login route of the benchmark receives. */
export const LOGIN_FORM = 'email=leafstorm&password=secret'

/**
 * A Node request's urlencoded body, as examples/basic/koa.ts reads it (for frameworks without a
 * body parser of their own): at most 10 KiB.
 */
export async function readForm(req: NodeJS.ReadableStream): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 10_240) break
  }
  return new URLSearchParams(body)
}
