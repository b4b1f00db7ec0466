//! The engine: provider calls with their store bookkeeping (ops), and the dashboard's async loop.
