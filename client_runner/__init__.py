"""client_runner: one container that proves every lab service works, and interactive clients."""
