/**
 * A conversation's own settings as an ARIA menu button with submenus: Pin to top, Archive, Mute ▸ durations,
 * Mentions only ▸ durations, Unmute. Items are reached with the arrow keys, Home and End; ArrowRight (or Enter) opens a
 * submenu and ArrowLeft or Escape goes back to its parent item; Escape on the top menu closes it and puts focus back on
 * the button; Tab closes it and moves on. The list's row opens it from the context menu too (the list controls `open`).
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { moveMenuFocus } from '../lib/menu-focus.js'

export interface ConversationMenuItem {
  id: string
  label: string
  /** A submenu instead of an action. */
  children?: ConversationMenuItem[]
  run?(): void
}

export interface ConversationMenuProps {
  items: ConversationMenuItem[]
  /** The button's accessible name, e.g. "Options for Family". */
  label: string
  open: boolean
  onOpenChange(open: boolean): void
}

const menuItems = (menu: HTMLElement | null): HTMLElement[] => [...(menu?.querySelectorAll<HTMLElement>(':scope > [role="menuitem"]') ?? [])]

export function ConversationMenu({ items, label, open, onOpenChange }: ConversationMenuProps) {
  const menuId = useId()
  const buttonRef = useRef<HTMLButtonElement>(null)
  const menuRef = useRef<HTMLDivElement>(null)
  const subRef = useRef<HTMLDivElement>(null)
  const boxRef = useRef<HTMLDivElement>(null)
  const [openedSub, setSub] = useState<string | null>(null)
  // A submenu left open when the menu closed is not open when the menu comes back.
  const sub = open ? openedSub : null

  useEffect(() => {
    if (!open) return
    menuItems(menuRef.current)[0]?.focus()
    const outside = (event: PointerEvent) => {
      const target = event.target as Node | null
      if (target !== null && !boxRef.current?.contains(target)) {
        setSub(null)
        onOpenChange(false)
      }
    }
    document.addEventListener('pointerdown', outside)
    return () => document.removeEventListener('pointerdown', outside)
  }, [open, onOpenChange])

  useEffect(() => {
    if (sub !== null) menuItems(subRef.current)[0]?.focus()
  }, [sub])

  const close = () => {
    setSub(null)
    buttonRef.current?.focus()
    onOpenChange(false)
  }
  const parentItem = (id: string) => menuRef.current?.querySelector<HTMLElement>(`[data-item="${id}"]`) ?? null

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>, level: 'top' | 'sub') => {
    const entries = menuItems(level === 'top' ? menuRef.current : subRef.current)
    const backToParent = () => {
      const parent = sub === null ? null : parentItem(sub)
      setSub(null)
      parent?.focus()
    }
    if (moveMenuFocus(entries, event.key)) {
      event.preventDefault()
      event.stopPropagation()
      return
    }
    switch (event.key) {
      case 'ArrowRight': {
        const id = (document.activeElement as HTMLElement | null)?.dataset['submenu']
        if (level === 'top' && id !== undefined) setSub(id)
        break
      }
      case 'ArrowLeft':
        if (level === 'sub') backToParent()
        break
      case 'Escape':
        if (level === 'sub') backToParent()
        else close()
        break
      case 'Tab':
        setSub(null)
        onOpenChange(false)
        return
      default:
        return
    }
    event.preventDefault()
    event.stopPropagation()
  }

  const openSub = items.find((i) => i.id === sub)
  return (
    <div className="message-menu conversation-menu" ref={boxRef}>
      <button
        ref={buttonRef}
        id={`${menuId}-button`}
        type="button"
        className="message-menu-button conversation-menu-button icon-button"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => {
          setSub(null)
          onOpenChange(!open)
        }}
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
        <div ref={menuRef} id={menuId} role="menu" aria-labelledby={`${menuId}-button`} className="message-menu-list conversation-menu-list" onKeyDown={(e) => onKeyDown(e, 'top')}>
          {items.map((item) =>
            item.children === undefined ? (
              <button
                key={item.id}
                type="button"
                role="menuitem"
                tabIndex={-1}
                data-item={item.id}
                className="message-menu-item"
                onClick={() => {
                  close()
                  item.run?.()
                }}
              >
                {item.label}
              </button>
            ) : (
              <button
                key={item.id}
                id={`${menuId}-${item.id}`}
                type="button"
                role="menuitem"
                tabIndex={-1}
                data-item={item.id}
                data-submenu={item.id}
                aria-haspopup="menu"
                aria-expanded={sub === item.id}
                className="message-menu-item has-submenu"
                onClick={() => setSub(sub === item.id ? null : item.id)}
              >
                {item.label}
                <span aria-hidden="true"> ▸</span>
              </button>
            ),
          )}
        </div>
      )}
      {open && openSub?.children !== undefined && (
        <div ref={subRef} role="menu" aria-labelledby={`${menuId}-${openSub.id}`} className="message-menu-list conversation-submenu" onKeyDown={(e) => onKeyDown(e, 'sub')}>
          {openSub.children.map((child) => (
            <button
              key={child.id}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="message-menu-item"
              onClick={() => {
                close()
                child.run?.()
              }}
            >
              {child.label}
            </button>
          ))}
        </div>
      )}
    </div>
  )
}
