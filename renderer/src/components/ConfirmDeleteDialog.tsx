import { Dialog } from './Dialog.js'
import { useFocusOnOpen } from './focus-on-open.js'

/** Asks before deleting a message for everyone, saying what that does; focus starts on Cancel. */
export function ConfirmDeleteDialog({ onConfirm, onClose }: { onConfirm(): void; onClose(): void }) {
  const cancel = useFocusOnOpen<HTMLButtonElement>()
  return (
    <Dialog
      title="Delete for everyone?"
      description="The message is replaced by “This message was deleted” for everyone in this chat, on every device. Its text cannot be brought back."
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
