/**
 * The WebSocket carrier's token travels as the subprotocol `hearth.<token>`: the only header a browser lets a page
 * set on a WebSocket. `?token=` works too, for clients that cannot set protocols.
 */
export const API_PROTOCOL_PREFIX = 'hearth.'
