import type { AdapterHarness } from '../harness.ts'
import { expressHarness } from './express.ts'

/** Every adapter the conformance suite runs against; each new adapter appends its harness here. */
export const adapters: AdapterHarness[] = [expressHarness]
