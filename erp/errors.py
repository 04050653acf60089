"""Refusals with stable codes.

Every business rule that says "no" raises ``ErpError`` with a code from
``CODES``. The chat shows ``message`` (Chinese first) plus what to do next; the
support knowledge base links an article per code. Codes never change meaning.
"""

from __future__ import annotations

# code -> (Chinese explanation template, English template, what to do next)
CODES: dict[str, tuple[str, str, str]] = {
    "UNBALANCED": (
        "凭证借贷不平衡：借方 {debit}，贷方 {credit}",
        "Voucher does not balance: debit {debit}, credit {credit}",
        "检查每行金额，使借方合计等于贷方合计后再提交。",
    ),
    "EMPTY_VOUCHER": ("凭证没有分录", "Voucher has no lines", "至少需要一借一贷两行分录。"),
    "BAD_LINE": (
        "第 {line} 行分录无效：{why}",
        "Line {line} is invalid: {why}",
        "每行只能填借方或贷方之一，金额不能为零（负数表示红字）。",
    ),
    "UNKNOWN_ACCOUNT": (
        "科目 {code} 不存在",
        "Unknown account {code}",
        "用 /accounts 查看科目表，或请管理员新增该科目。",
    ),
    "NOT_LEAF_ACCOUNT": (
        "科目 {code} {name} 有下级科目，不能直接记账",
        "Account {code} {name} has sub-accounts; post to a leaf",
        "请选择它的明细科目。",
    ),
    "PARTY_REQUIRED": (
        "科目 {code} {name} 需要核算往来单位",
        "Account {code} {name} needs a customer/supplier",
        "为这行分录指定客户或供应商。",
    ),
    "PERIOD_CLOSED": (
        "会计期间 {period} 已结账，不能再记账",
        "Period {period} is closed",
        "请在当前期间记账，或请会计主管反结账后再处理。",
    ),
    "VOUCHER_STATE": (
        "凭证 {number} 当前状态为「{state}」，不能{action}",
        "Voucher {number} is {state}; cannot {action}",
        "用 /voucher 查看凭证状态。",
    ),
    "NEEDS_APPROVAL": (
        "凭证 {number} 金额 {amount} 超过审批额度 {threshold}，需经理审批",
        "Voucher {number} ({amount}) exceeds the approval threshold {threshold}",
        "已提交经理审批，审批通过后自动入账。",
    ),
    "NOT_FOUND": ("找不到{what}：{key}", "Not found: {what} {key}", "检查输入是否正确。"),
    "DUPLICATE_INVOICE": (
        "重复发票：{seller} 的发票 {number} 已入账（{voucher}）",
        "Duplicate invoice: {number} from {seller} is already booked ({voucher})",
        "不用再次入账；如需更正，请冲销原凭证后重新提交。",
    ),
    "DUPLICATE_FILE": (
        "重复文件：这份文件已提交过（发票 {number}，{voucher}）",
        "Duplicate file: already submitted (invoice {number}, {voucher})",
        "不用再次提交。",
    ),
    "INVALID_TAX_ID": ("{why}", "{why}", "核对营业执照上的统一社会信用代码后重新输入。"),
    "NEGATIVE_STOCK": (
        "库存不足：{product} 在 {warehouse} 现有 {on_hand}，本次需出库 {quantity}",
        "Not enough stock: {product} at {warehouse} has {on_hand}, needs {quantity}",
        "先办理入库（采购发票或盘点调整），或换一个仓库出库。",
    ),
    "INVALID_AMOUNT": (
        "金额无效：{value}",
        "Invalid amount: {value}",
        "请输入正数金额，例如 5000 或 5,000.00。",
    ),
    "INVALID_INPUT": ("{why}", "{why}", "检查输入后重试。"),
    "PERMISSION_DENIED": (
        "没有权限：{action} 需要 {roles} 角色",
        "Permission denied: {action} needs role {roles}",
        "请联系管理员分配角色。",
    ),
    "NOT_STAFF": (
        "未授权：您（ID {user_id}）还不是本公司员工账号",
        "Not authorised: Telegram id {user_id} is not registered staff",
        "已通知管理员；管理员添加您后即可使用。",
    ),
    "NO_DIRECTION": (
        "无法判断发票方向：买方和卖方都不是本公司（{company}）",
        "Cannot tell purchase from sales: neither party is {company}",
        "检查公司税号设置（ZHANGFANG_COMPANY_TAX_ID），或手动指定采购/销售。",
    ),
    "UNREADABLE_INVOICE": (
        "发票无法识别：{why}",
        "Invoice could not be read: {why}",
        "请发送原始 PDF/OFD/XML 文件，或以「文件」方式发送清晰照片。",
    ),
    "INVOICE_INCOMPLETE": (
        "发票信息不完整：{why}",
        "Invoice is incomplete: {why}",
        "请发送更清晰的文件，或手工补录缺失的字段。",
    ),
    "PRODUCT_UNSURE": (
        "发票第 {line} 行「{name}」对应哪个商品还不确定（候选：{candidates}）",
        "Invoice line {line} ({name}) matches several products: {candidates}",
        "在发票卡片上点选对应的商品，或选「新商品」，然后再确认入账。",
    ),
    "OVERPAYMENT": (
        "收款 {amount} 超过 {party} 的未结金额 {open}",
        "Receipt {amount} exceeds the open balance {open} of {party}",
        "多收部分将记入预收账款；如有误请核对金额。",
    ),
}


class ErpError(Exception):
    """A refusal: ``code`` is stable, ``params`` fill the templates."""

    def __init__(self, code: str, /, **params: object) -> None:
        if code not in CODES:
            raise KeyError(f"unknown error code {code}")
        self.code = code
        self.params = {k: ("" if v is None else v) for k, v in params.items()}
        super().__init__(self.message("zh"))

    def message(self, lang: str = "zh") -> str:
        zh, en, _ = CODES[self.code]
        template = en if lang == "en" else zh
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    @property
    def hint(self) -> str:
        return CODES[self.code][2]

    def __str__(self) -> str:
        return f"[{self.code}] {self.message('zh')}"
