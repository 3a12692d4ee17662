"""Test helpers: throwaway servers, payload builders, process runners."""
