"""Paged KV cache accounting: a replica's GPU memory as a pool of fixed-size blocks."""

from __future__ import annotations

from llmsim.errors import InvariantViolation


def blocks_for(num_tokens: int, block_size: int) -> int:
    """Blocks needed to hold the KV of ``num_tokens`` tokens."""
    return -(-num_tokens // block_size)


class BlockAllocator:
    """Counts allocated blocks; refuses to go above capacity or below zero."""

    def __init__(self, num_blocks: int, block_size: int, watermark_blocks: int):
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.watermark_blocks = watermark_blocks  # kept free at admission so running requests can grow
        self.num_allocated = 0

    @property
    def num_free(self) -> int:
        return self.num_blocks - self.num_allocated

    def allocate(self, count: int) -> None:
        if count < 0 or self.num_allocated + count > self.num_blocks:
            raise InvariantViolation(
                f"KV allocation of {count} blocks with {self.num_allocated}/{self.num_blocks} in use"
            )
        self.num_allocated += count

    def free(self, count: int) -> None:
        if count < 0 or count > self.num_allocated:
            raise InvariantViolation(f"KV free of {count} blocks with only {self.num_allocated} in use")
        self.num_allocated -= count

    def can_admit(self, prefill_tokens: int) -> bool:
        """A new request needs blocks for its whole prefill and must leave the watermark free."""
        return self.num_free - blocks_for(prefill_tokens, self.block_size) >= self.watermark_blocks
