import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.js'
import './styles.css'

// A new launch link pasted into this tab only changes the fragment, which does not reload the page: start over with it.
window.addEventListener('hashchange', () => {
  if (/(^#|&)launch=/.test(window.location.hash)) window.location.reload()
})

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
