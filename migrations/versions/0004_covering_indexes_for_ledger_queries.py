"""covering indexes for on-hand and the trial balance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 08:30:00

bench/erp_queries.py (1M stock moves, 1.26M voucher lines, SQLite): on-hand of a
busy product read 19k table rows (70 ms, target 20 ms) and the trial balance read
every voucher line row (2.6 s, target 2 s). With the summed columns in the index
both are answered from the index alone (5 ms, 0.75 s).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stockmove", schema=None) as batch_op:
        batch_op.drop_index("ix_stockmove_product_wh")
        batch_op.create_index(
            "ix_stockmove_onhand", ["product_id", "warehouse_id", "batch", "quantity", "amount"], unique=False
        )
    with op.batch_alter_table("voucherline", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voucherline_ledger", ["account_code", "voucher_id", "debit", "credit"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voucherline", schema=None) as batch_op:
        batch_op.drop_index("ix_voucherline_ledger")
    with op.batch_alter_table("stockmove", schema=None) as batch_op:
        batch_op.drop_index("ix_stockmove_onhand")
        batch_op.create_index("ix_stockmove_product_wh", ["product_id", "warehouse_id"], unique=False)
