/** `Vary` with `Cookie` added, or `undefined` when it already covers cookies. */
export function addVaryCookie(vary: string | undefined): string | undefined {
  if (vary === undefined || vary.trim() === '') return 'Cookie'
  const fields = vary.split(',').map((f) => f.trim().toLowerCase())
  if (fields.includes('*') || fields.includes('cookie')) return undefined
  return `${vary}, Cookie`
}
