import { FLASH_QUEUE_BYTES, jsonBytes, MAX_FLASHES, truncateToJsonBytes } from './limits.ts'

/** One flashed message. */
export interface Flash {
  readonly category: string
  readonly message: string
}

// The queue is stored as `[["category","message"],…]`: two brackets for the list, and per entry
// two brackets, the comma between its two strings, and a comma before every entry but the first.
const LIST_BYTES = 2
const ENTRY_BYTES = 3

/** Bytes one entry takes in the stored queue, separating comma excluded. */
function entryBytes(flash: Flash): number {
  return ENTRY_BYTES + jsonBytes(flash.category) + jsonBytes(flash.message)
}

/**
 * The entry as it is queued: shortened (with `…`) when it alone would pass the queue's budget.
 * The message gives way first; a category is only shortened when it would take more than half.
 */
function fit(category: string, message: string): Flash {
  const room = FLASH_QUEUE_BYTES - LIST_BYTES - ENTRY_BYTES
  if (jsonBytes(category) + jsonBytes(message) <= room) return { category, message }
  const fittedCategory = truncateToJsonBytes(category, Math.floor(room / 2))
  return {
    category: fittedCategory,
    message: truncateToJsonBytes(message, room - jsonBytes(fittedCategory)),
  }
}

/**
 * Appends a message to a flash queue, in place, keeping the queue within {@link MAX_FLASHES}
 * messages and {@link FLASH_QUEUE_BYTES} bytes: the oldest messages are dropped first. A message
 * identical to one already queued (same category and text) is kept once, as the newest: a page
 * that flashes on every visit (a login redirect hit by a crawler) cannot grow the session.
 */
export function queueFlash(queue: Flash[], category: string, message: string): void {
  const flash = fit(category, message)
  const same = queue.findIndex((f) => f.category === flash.category && f.message === flash.message)
  if (same !== -1) queue.splice(same, 1)
  queue.push(flash)
  let bytes = LIST_BYTES - 1
  for (const queued of queue) bytes += entryBytes(queued) + 1
  while (queue.length > MAX_FLASHES || bytes > FLASH_QUEUE_BYTES) {
    bytes -= entryBytes(queue.shift() as Flash) + 1
  }
}
