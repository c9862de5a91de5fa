/**
 * A message's actions as an ARIA menu button: the button (shown on hover and whenever focus is in the message)
 * opens a menu whose items are reached with the arrow keys, Home and End, or the first letter; Escape closes it and
 * puts focus back on the button, Tab closes it and moves on. The message also opens it from the context menu (right
 * click, the Menu key or Shift+F10): the row controls `open`.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { moveMenuFocus } from '../lib/menu-focus.js'

export interface MenuItem {
  id: string
  label: string
  danger?: boolean
  run(): void
}

export interface MessageMenuProps {
  items: MenuItem[]
  /** The button's accessible name, e.g. "Actions for Bob’s message". */
  label: string
  open: boolean
  onOpenChange(open: boolean): void
}

/** Room the menu needs below its button; closer to the bottom of the window than this it opens upwards. */
const MENU_ROOM = 300

export function MessageMenu({ items, label, open, onOpenChange }: MessageMenuProps) {
  const menuId = useId()
  const buttonRef = useRef<HTMLButtonElement>(null)
  const menuRef = useRef<HTMLDivElement>(null)
  const [upwards, setUpwards] = useState(false)

  useEffect(() => {
    if (!open) return
    const button = buttonRef.current
    if (button !== null) setUpwards(button.getBoundingClientRect().bottom + MENU_ROOM > window.innerHeight)
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus()
    const outside = (event: PointerEvent) => {
      const target = event.target as Node | null
      if (target !== null && !menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) onOpenChange(false)
    }
    document.addEventListener('pointerdown', outside)
    return () => document.removeEventListener('pointerdown', outside)
  }, [open, onOpenChange])

  const close = (refocus: boolean) => {
    if (refocus) buttonRef.current?.focus()
    onOpenChange(false)
  }

  const onMenuKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const entries = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])]
    const at = entries.indexOf(document.activeElement as HTMLElement)
    if (moveMenuFocus(entries, event.key)) {
      event.preventDefault()
      event.stopPropagation()
      return
    }
    switch (event.key) {
      case 'Escape':
        close(true)
        break
      case 'Tab':
        // Focus moves on by itself; the menu only has to go.
        onOpenChange(false)
        return
      default: {
        if (event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) return
        const letter = event.key.toLowerCase()
        const order = [...entries.slice(at + 1), ...entries.slice(0, at + 1)]
        order.find((e) => e.textContent?.trim().toLowerCase().startsWith(letter))?.focus()
      }
    }
    event.preventDefault()
    event.stopPropagation()
  }

  return (
    <div className="message-menu">
      <button
        ref={buttonRef}
        id={`${menuId}-button`}
        type="button"
        className="message-menu-button icon-button"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => onOpenChange(!open)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault()
            onOpenChange(true)
          }
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <div ref={menuRef} id={menuId} role="menu" aria-labelledby={`${menuId}-button`} className={`message-menu-list${upwards ? ' up' : ''}`} onKeyDown={onMenuKeyDown}>
          {items.map((item) => (
            <button
              key={item.id}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={`message-menu-item${item.danger === true ? ' danger-item' : ''}`}
              onClick={() => {
                // Focus goes back to the button first, so a dialog the item opens returns it there when it closes.
                close(true)
                item.run()
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  )
}
