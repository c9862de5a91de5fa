import { Dialog } from './Dialog.js'
import { useFocusOnOpen } from './focus-on-open.js'

/**
 * Asks before deleting a message for everyone, saying what that does; focus starts on Cancel. `authorName` is given
 * when an admin deletes someone else's message.
 */
export function ConfirmDeleteDialog({ authorName, onConfirm, onClose }: { authorName?: string | undefined; onConfirm(): void; onClose(): void }) {
  const cancel = useFocusOnOpen<HTMLButtonElement>()
  return (
    <Dialog
      title={authorName === undefined ? 'Delete for everyone?' : `Delete ${authorName}’s message for everyone?`}
      description={
        authorName === undefined
          ? 'The message is replaced by “This message was deleted” for everyone in this chat, on every device. Its text cannot be brought back.'
          : 'As an admin, you remove it for everyone in this group, on every device: it is replaced by “Deleted by an admin”. Its text cannot be brought back.'
      }
      onClose={onClose}
    >
      <div className="button-row">
        <button ref={cancel} type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          Delete for everyone
        </button>
      </div>
    </Dialog>
  )
}
