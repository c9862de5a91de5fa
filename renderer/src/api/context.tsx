import { createContext, useContext } from 'react'
import type { Api } from './client.js'

export const ApiContext = createContext<Api | null>(null)

/** The core API of this window; only rendered below the connection gate, so it is always there. */
export function useApi(): Api {
  const api = useContext(ApiContext)
  if (api === null) throw new Error('useApi outside <ApiContext.Provider>')
  return api
}
