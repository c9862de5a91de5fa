/// <reference lib="dom" />
/**
 * Photos and files between two people, two cores and two browser windows (browser mode): Alice drags a large photo
 * onto the chat (drawn in the page, 3000×2000 PNG), the composer says it will be resized, she sends it with a caption;
 * Bob sees the placeholder, then the photo at 2048 px, opens the viewer, moves with the keyboard, saves it (a JPEG
 * without EXIF) and closes it with Escape. Then a 30 MiB file, over Bob's automatic download size: he is offered
 * Download, sees it arrive, is warned before saving it (a .bin can run as a program), and saves exactly Alice's bytes. A file over Alice's send limit is refused before anything
 * is sent. Last, Bob sets the room he keeps for received files, clears the media of Family and downloads the photo
 * again. axe-core checks the composer with files, the bubble, the viewer, the file card and the media settings.
 *
 * The steps build on each other (one story), so the file runs them in order and stops at the first failure.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { familyOfTwo, twoPeople } from '../helpers/e2e-story.js'
import { RESULTS_DIR } from '../helpers/e2e-browser.js'
import { expectAccessible, messageRow } from '../helpers/e2e-ui.js'

const people = twoPeople('attachments')
const step = people.step.bind(people)
let alice: Page
let bob: Page

const MiB = 1024 * 1024
const BIG = Buffer.alloc(30 * MiB)
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE((i * 2654435761) >>> 0, i)
// Picked from disk as a person would: handing Chromium 30 MiB through the DevTools protocol takes longer than a step.
let files = ''
let bigPath = ''

beforeAll(async () => {
  alice = people.alice
  bob = people.bob
  files = await mkdtemp(join(tmpdir(), 'hearth-e2e-files-'))
  bigPath = join(files, 'holiday.bin')
  await writeFile(bigPath, BIG)
})

afterAll(async () => {
  if (files !== '') await rm(files, { recursive: true, force: true })
})

/** Drops a photo drawn in the page (a gradient, 3000×2000, PNG) onto the chat, as a file dragged from the desktop. */
async function dropPhoto(page: Page, name: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(async (fileName) => {
    const canvas = new OffscreenCanvas(3000, 2000)
    const context = canvas.getContext('2d')!
    const gradient = context.createLinearGradient(0, 0, 3000, 2000)
    gradient.addColorStop(0, '#f0a040')
    gradient.addColorStop(1, '#402080')
    context.fillStyle = gradient
    context.fillRect(0, 0, 3000, 2000)
    const blob = await canvas.convertToBlob({ type: 'image/png' })
    const transfer = new DataTransfer()
    transfer.items.add(new File([blob], fileName, { type: 'image/png' }))
    return transfer
  }, name)
  await page.dispatchEvent('section.chat', 'dragover', { dataTransfer })
  await page.dispatchEvent('section.chat', 'drop', { dataTransfer })
}

describe('photos and files between two people', () => {
  step('both onboard; alice creates Family and bob joins', async () => {
    await familyOfTwo(alice, bob)
  })

  step('alice drops a photo on the chat; the composer shows it resized, says so, and sends it with a caption', async () => {
    // Bob watches for the placeholder before anything arrives.
    await bob.evaluate(() => {
      const seen = { placeholder: false }
      ;(window as unknown as { seen: typeof seen }).seen = seen
      new MutationObserver(() => {
        if (document.querySelector('.attachment-image-placeholder') !== null) seen.placeholder = true
      }).observe(document.body, { subtree: true, childList: true })
    })
    await dropPhoto(alice, 'lake.png')
    const chips = alice.getByRole('list', { name: 'Files to send' })
    await chips.getByText('lake.jpg').waitFor({ timeout: 30_000 })
    await alice.getByText('Photos are resized and their location data removed before sending.').waitFor()
    await expectAccessible(alice, 'composer with a photo')
    await alice.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(alice, 'composer with a photo (dark)')
    await alice.emulateMedia({ colorScheme: 'light' })
    const composer = alice.getByLabel(/^Message to /)
    await composer.fill('Sunset at the lake')
    await composer.press('Enter')
    await messageRow(alice, 'Sunset at the lake').getByRole('button', { name: 'Open Photo lake.jpg from Alice' }).waitFor({ timeout: 30_000 })
  })

  step('bob sees the placeholder, then the photo, 2048 px wide', async () => {
    const row = messageRow(bob, 'Sunset at the lake')
    await row.waitFor({ timeout: 30_000 })
    const image = row.locator('img.attachment-image-full')
    await image.waitFor({ timeout: 60_000 })
    await bob.waitForFunction(() => (document.querySelector('img.attachment-image-full') as HTMLImageElement | null)?.complete === true)
    const size = await image.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])
    expect(size).toEqual([2048, 1365])
    expect(await image.getAttribute('src')).toMatch(/^blob:/)
    expect(await bob.evaluate(() => (window as unknown as { seen: { placeholder: boolean } }).seen.placeholder)).toBe(true)
    // The bubble hugs the photo: a caption this short leaves it no wider than the photo and the bubble's padding.
    const photoWidth = (await row.locator('.attachment-images').boundingBox())!.width
    const bubbleWidth = (await row.locator('.bubble').boundingBox())!.width
    expect(bubbleWidth).toBeLessThan(photoWidth + 40)
    await expectAccessible(bob, 'a message with a photo')
    await bob.screenshot({ path: join(RESULTS_DIR, 'photo-in-chat.png') })
  })

  step('bob opens the viewer, saves the photo (a JPEG with no EXIF), and Escape closes it with focus back', async () => {
    const opener = messageRow(bob, 'Sunset at the lake').getByRole('button', { name: 'Open Photo lake.jpg from Alice' })
    await opener.click()
    const viewer = bob.getByRole('dialog', { name: 'lake.jpg' })
    await viewer.getByText(/^Photo 1 of 1, from Alice/).waitFor()
    const shown = viewer.getByRole('img', { name: 'Photo lake.jpg from Alice' })
    await shown.waitFor()
    // The whole photo is on screen, scaled down to the stage, not cut off at the dialog's edge.
    await bob.waitForFunction(() => (document.querySelector('img.image-viewer-image') as HTMLImageElement | null)?.complete === true)
    const stage = (await viewer.locator('.image-viewer-stage').boundingBox())!
    const picture = (await shown.boundingBox())!
    expect(picture.y + picture.height).toBeLessThanOrEqual(stage.y + stage.height + 1)
    expect(picture.width / picture.height).toBeCloseTo(2048 / 1365, 1)
    await bob.screenshot({ path: join(RESULTS_DIR, 'photo-viewer.png') })
    await expectAccessible(bob, 'the photo viewer')
    await bob.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(bob, 'the photo viewer (dark)')
    await bob.emulateMedia({ colorScheme: 'light' })
    expect(await viewer.getByRole('button', { name: 'Next photo' }).isDisabled()).toBe(true)
    const [download] = await Promise.all([bob.waitForEvent('download'), viewer.getByRole('button', { name: 'Save' }).click()])
    expect(download.suggestedFilename()).toBe('lake.jpg')
    const bytes = await readFile((await download.path())!)
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    expect(bytes.includes(Buffer.from('Exif\0\0'))).toBe(false)
    await bob.keyboard.press('Escape')
    await viewer.waitFor({ state: 'detached' })
    expect(await opener.evaluate((el) => el === document.activeElement)).toBe(true)
  })

  step('a file over the send limit is refused in the composer, naming it, and nothing is sent', async () => {
    await alice.getByRole('button', { name: 'Settings' }).click()
    await alice.getByLabel('Largest file I send').selectOption(String(10 * MiB))
    await alice.getByRole('button', { name: 'Done' }).click()
    await alice.getByRole('heading', { name: 'Family', level: 2 }).waitFor()
    await alice.locator('input[type="file"]').setInputFiles(bigPath)
    await alice.locator('.composer').getByRole('alert').filter({ hasText: '“holiday.bin” is 30 MB; Hearth sends files up to 10 MB. Nothing was sent.' }).waitFor()
    expect(await alice.getByRole('list', { name: 'Files to send' }).count()).toBe(0)
    await alice.getByRole('button', { name: 'Settings' }).click()
    await alice.getByLabel('Largest file I send').selectOption(String(100 * MiB))
    await alice.getByRole('button', { name: 'Done' }).click()
  })

  step('alice sends a 30 MiB file, with its progress while it uploads', async () => {
    await alice.getByRole('heading', { name: 'Family', level: 2 }).waitFor()
    await alice.locator('input[type="file"]').setInputFiles(bigPath)
    await alice.getByRole('list', { name: 'Files to send' }).getByText('holiday.bin').waitFor()
    const composer = alice.getByLabel(/^Message to /)
    await composer.fill('The holiday archive')
    await composer.press('Enter')
    // The sending row shows the upload's progress until the core has the whole file.
    await messageRow(alice, 'The holiday archive').getByRole('progressbar', { name: 'Sending files' }).waitFor()
    await messageRow(alice, 'The holiday archive').locator('.file-card').waitFor({ timeout: 150_000 })
  })

  step('bob is offered Download (over his 25 MB), sees it arrive, is warned before saving it, and saves the same bytes', async () => {
    const row = messageRow(bob, 'The holiday archive')
    await row.waitFor({ timeout: 30_000 })
    await row.getByText('File · 30 MB · Not downloaded (larger than your automatic download size)').waitFor()
    await bob.screenshot({ path: join(RESULTS_DIR, 'file-card.png') })
    await expectAccessible(bob, 'a file card waiting for a click')
    await bob.emulateMedia({ colorScheme: 'dark' })
    await expectAccessible(bob, 'a file card waiting for a click (dark)')
    await bob.emulateMedia({ colorScheme: 'light' })
    await row.getByRole('button', { name: 'Download holiday.bin' }).click()
    const save = row.getByRole('button', { name: 'Save holiday.bin' })
    await save.waitFor({ timeout: 120_000 })
    // A .bin may run as a program: saving asks first.
    await row.getByText('This type of file can run programs on your computer.').waitFor()
    await save.click()
    const warning = bob.getByRole('dialog', { name: 'Save a file that can run programs?' })
    await warning.waitFor()
    await expectAccessible(bob, 'the warning before saving a risky file')
    // Reading 30 MiB back from the core in 1 MiB pieces takes a while on a loaded machine.
    const [download] = await Promise.all([bob.waitForEvent('download', { timeout: 120_000 }), warning.getByRole('button', { name: 'Save anyway' }).click()])
    expect(download.suggestedFilename()).toBe('holiday.bin')
    const saved = await readFile((await download.path())!)
    expect(saved.length).toBe(BIG.length)
    expect(createHash('sha256').update(saved).digest('hex')).toBe(createHash('sha256').update(BIG).digest('hex'))
  })

  step('bob sets the room for received files, clears the media of Family, and downloads the photo again', async () => {
    await bob.getByRole('button', { name: 'Settings' }).click()
    const keep = bob.getByLabel('Keep received photos and files up to')
    expect(await keep.evaluate((el: HTMLSelectElement) => el.selectedOptions[0]?.textContent)).toBe('10 GB')
    await keep.selectOption(String(5 * 1024 * MiB))
    await bob.getByRole('list', { name: 'Storage by conversation' }).getByText('Family').waitFor()
    const section = bob.getByRole('region', { name: 'Photos and files' })
    await section.scrollIntoViewIfNeeded()
    await section.screenshot({ path: join(RESULTS_DIR, 'media-settings.png') })
    await expectAccessible(bob, 'the photos and files settings')
    await bob.getByRole('button', { name: 'Clear media of Family' }).click()
    const confirm = bob.getByRole('dialog', { name: 'Clear the media of Family?' })
    await expectAccessible(bob, 'the clear media confirmation')
    await confirm.getByRole('button', { name: 'Clear media' }).click()
    await bob.getByText('Cleared the photos and files of Family from this device.').waitFor()
    await bob.getByRole('button', { name: 'Done' }).click()
    // The message stays and says its photo left this device; the setting stays set.
    const row = messageRow(bob, 'Sunset at the lake')
    await row.getByText(/Removed from this device/).waitFor()
    await expectAccessible(bob, 'a photo removed from this device')
    await row.screenshot({ path: join(RESULTS_DIR, 'photo-removed.png') })
    await row.getByRole('button', { name: 'Download again: lake.jpg' }).click()
    await row.locator('img.attachment-image-full').waitFor({ timeout: 60_000 })
    await bob.getByRole('button', { name: 'Settings' }).click()
    expect(await bob.getByLabel('Keep received photos and files up to').evaluate((el: HTMLSelectElement) => el.selectedOptions[0]?.textContent)).toBe('5 GB')
    await bob.getByRole('button', { name: 'Done' }).click()
  })
})
