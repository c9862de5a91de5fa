/**
 * What a group's name and description may be. One rule for what a person types (the core checks it before signing)
 * and for `about` operations arriving from peers (the log checks it before the change takes effect): a name that
 * renders as something else, or a description the size of a book, never reaches another member's screen.
 */
export const MAX_GROUP_NAME = 64
export const MAX_GROUP_DESCRIPTION = 500

// C0/C1 controls and the bidirectional overrides/isolates, as for display names. The description may hold line breaks.
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u
const FORBIDDEN_IN_DESCRIPTION = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/** Why `name` is not an acceptable group name as it stands, or undefined when it is. */
export function groupNameProblem(name: string): string | undefined {
  if (name !== name.trim()) return 'the group name has spaces at its start or end'
  if (name.length === 0) return 'the group name must not be empty'
  if ([...name].length > MAX_GROUP_NAME) return `the group name must be at most ${MAX_GROUP_NAME} characters`
  if (FORBIDDEN_IN_NAME.test(name)) return 'the group name must not contain control or direction-override characters'
  return undefined
}

/** Why `description` is not an acceptable group description, or undefined when it is ('' clears it). */
export function groupDescriptionProblem(description: string): string | undefined {
  if (description !== description.trim()) return 'the description has spaces at its start or end'
  if ([...description].length > MAX_GROUP_DESCRIPTION) return `the description must be at most ${MAX_GROUP_DESCRIPTION} characters`
  if (FORBIDDEN_IN_DESCRIPTION.test(description)) return 'the description must not contain control or direction-override characters'
  return undefined
}
