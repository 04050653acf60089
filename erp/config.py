"""All settings in one place, read from the environment and `.env`.

Built once at start-up (``get_settings``) and handed down; tests build their own.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'zhangfang.db'}", validation_alias="DATABASE_URL"
    )
    telegram_bot_token: str | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str | None = Field(default=None, validation_alias="TELEGRAM_BASE_URL")
    telegram_base_file_url: str | None = Field(default=None, validation_alias="TELEGRAM_BASE_FILE_URL")
    webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    admin_ids: list[int] = Field(default_factory=list, validation_alias="ZHANGFANG_ADMIN_IDS")
    timezone: str = Field(default="Asia/Shanghai", validation_alias="ZHANGFANG_TIMEZONE")
    company_name: str = Field(default="上海账房示范贸易有限公司", validation_alias="ZHANGFANG_COMPANY_NAME")
    company_tax_id: str = Field(default="91310000MA1FL8XQ37", validation_alias="ZHANGFANG_COMPANY_TAX_ID")
    approval_threshold: Decimal = Field(
        default=Decimal("50000.00"), validation_alias="ZHANGFANG_APPROVAL_THRESHOLD"
    )
    allow_negative_stock: bool = Field(default=False, validation_alias="ZHANGFANG_ALLOW_NEGATIVE_STOCK")
    language: str = Field(default="zh", validation_alias="ZHANGFANG_LANGUAGE")
    storage_dir: Path = Field(default=ROOT / "data" / "files", validation_alias="ZHANGFANG_STORAGE_DIR")
    ocr_workers: int = Field(default=2, validation_alias="ZHANGFANG_OCR_WORKERS")
    ocr_engine: str = Field(default="auto", validation_alias="ZHANGFANG_OCR_ENGINE")
    ocr_timeout_seconds: float = Field(default=60.0, validation_alias="ZHANGFANG_OCR_TIMEOUT")
    max_file_mb: int = Field(default=20, validation_alias="ZHANGFANG_MAX_FILE_MB")
    zip_max_total_mb: int = Field(default=500, validation_alias="ZHANGFANG_ZIP_MAX_MB")
    zip_max_files: int = Field(default=2000, validation_alias="ZHANGFANG_ZIP_MAX_FILES")
    support_chat_id: int | None = Field(default=None, validation_alias="ZHANGFANG_SUPPORT_CHAT_ID")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(x) for x in value.replace(";", ",").split(",") if x.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
