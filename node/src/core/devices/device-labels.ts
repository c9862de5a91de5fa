import { hostname } from 'node:os'
import { z } from 'zod'
import { HearthError } from '../../../common/errors.js'
import { displayNameProblem } from '../../identity/device-cert.js'

/** What a person calls one of their devices and what it is, as Settings → Devices shows it. */
export interface DeviceLabel {
  /** The device's name (its computer's name at first; the person may rename it from any of their devices). */
  n: string
  /** What it runs on: the operating system. */
  k: string
}

export const deviceLabelSchema = z.strictObject({ n: z.string().min(1).max(200), k: z.string().min(1).max(40) })

/** `d/<device>` in the own-sync map (own-sync-frames.ts). */
export const LABEL_PREFIX = 'd/'

const PLATFORMS: Record<string, string> = { linux: 'Linux', darwin: 'macOS', win32: 'Windows', android: 'Android', freebsd: 'FreeBSD' }

/** This device's label before anyone named it: the computer's name, cut to a display name's length. */
export function defaultLabel(): DeviceLabel {
  const host = [...hostname().trim()].slice(0, 64).join('')
  const kind = PLATFORMS[process.platform] ?? process.platform
  return { n: host.length > 0 && displayNameProblem(host) === undefined ? host : `${kind} computer`, k: kind }
}

/**
 * The labels of this account's devices. Kept in step across our devices by own-sync (which sets `onChange` and calls
 * `applyFromOwnDevice`); read by devices.ts for the device list.
 */
export class DeviceLabels {
  private readonly labels = new Map<string, DeviceLabel>()
  /** A label set here: own-sync stamps it and tells our other devices. */
  onChange: ((device: string, label: DeviceLabel) => void) | undefined
  /** A label changed, here or from another device: the device list changes. */
  onUpdate: (() => void) | undefined

  get(device: string): DeviceLabel | undefined {
    return this.labels.get(device)
  }

  /** The person renames one of their devices (from any of them). */
  rename(device: string, name: string, kind: string): void {
    const trimmed = name.trim()
    const problem = displayNameProblem(trimmed)
    if (problem !== undefined) throw new HearthError('INVALID_INPUT', problem.replace('display name', 'device name'))
    this.set(device, { n: trimmed, k: this.labels.get(device)?.k ?? kind })
  }

  set(device: string, label: DeviceLabel): void {
    this.labels.set(device, label)
    this.onChange?.(device, label)
    this.onUpdate?.()
  }

  applyFromOwnDevice(device: string, label: DeviceLabel): void {
    this.labels.set(device, label)
    this.onUpdate?.()
  }
}
