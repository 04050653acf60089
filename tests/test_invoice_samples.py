"""Golden tests on real invoices: each file next to the JSON it must produce, truth written by hand.

Truth comes from where samples/README says it lies: PDF document info,
OFD CustomData/CustomTag, original_invoice.xml, or reading the page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from invoice_ocr import read

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
TODAY = date(2026, 11, 28)


def line(name, amount, rate, tax, *, spec=None, unit=None, quantity=None, unit_price=None):  # noqa: ANN001, ANN201
    return {
        "name": name,
        "spec": spec,
        "unit": unit,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": amount,
        "tax_rate": rate,
        "tax": tax,
    }


TRUTH = {
    "zqywuxie__postage_1.pdf": {
        "ok": True,
        "error": None,
        "format": "pdf",
        "invoice_type": "normal",
        "is_red": False,
        "number": "25437000000297554203",
        "code": None,
        "issue_date": "2025-10-13",
        "buyer": {"name": "南华大学", "tax_id": "124300004488048597"},
        "seller": {"name": "湖南顺丰速运有限公司", "tax_id": "91430102727985656Y"},
        "lines": [
            line(
                "*快递服务*收派服务费",
                "16.04",
                "6%",
                "0.96",
                unit="次",
                quantity="1",
                unit_price="16.0377358491",
            )
        ],
        "total_amount": "16.04",
        "total_tax": "0.96",
        "total": "17.00",
        "total_in_words": "壹拾柒圆整",
        "remarks": "单号:SF0252200797031 国自然基金合作协议",
        "issuer": "李双",
        "warnings": [],
    },
    "ofdrw__20240531141733_shudian.ofd": {
        "ok": True,
        "error": None,
        "format": "ofd",
        "invoice_type": "special",
        "is_red": False,
        "number": "24112000000048542163",
        "code": None,
        "issue_date": "2024-05-28",
        "buyer": {"name": "海南麒麟云服科技有限公司", "tax_id": "91460300MAA92DJN95"},
        "seller": {"name": "北京互联三六五科技有限公司", "tax_id": "91110108690017781B"},
        "lines": [
            line(
                "*信息技术服务*技术服务费",
                "4197.17",
                "6%",
                "251.83",
                quantity="1",
                unit_price="4197.16981132075",
            )
        ],
        "total_amount": "4197.17",
        "total_tax": "251.83",
        "total": "4449.00",
        "total_in_words": "肆仟肆佰肆拾玖圆整",
        "remarks": "收款人:李蓉蓉; 复核人:周欣铭;",
        "issuer": "于俪",
        "warnings": [],
    },
    "ofdrw__1.ofd": {
        "ok": True,
        "error": None,
        "format": "ofd",
        "invoice_type": "normal",
        "is_red": False,
        "number": "83089647",
        "code": "033002000211",
        "issue_date": "2020-07-23",
        "buyer": {"name": "江苏京利华新材料有限公司", "tax_id": "91320115MA202UKD7X"},
        "seller": {"name": "兰溪市悦济舫餐厅", "tax_id": "92330781MA2EDMFU50"},
        "lines": [line("*餐饮服务*餐费", "510.68", "3%", "15.32", quantity="1", unit_price="510.679612")],
        "total_amount": "510.68",
        "total_tax": "15.32",
        "total": "526.00",
        "total_in_words": None,
        "remarks": None,
        "issuer": "管理员",
        "warnings": [],
    },
    "ofdrw__fapiao_shili.ofd": {
        "ok": False,
        "error": None,
        "format": "ofd",
        "invoice_type": "normal",
        "is_red": False,
        "number": "99999951",
        "code": "050001700111",
        "issue_date": "2020-10-10",
        "buyer": {"name": "科游迈利有限公司", "tax_id": "9150010807MGZHI002"},
        "seller": {"name": "杭州融易算企业管理咨询有限公司", "tax_id": "91500106MA2CE71F65"},
        "lines": [line("*餐饮服务*餐费", "100.00", "6%", "6.00", unit="次", quantity="4", unit_price="25")]
        * 3,
        "total_amount": "300.00",
        "total_tax": "18.00",
        "total": "318.00",
        "total_in_words": None,
        "remarks": None,
        "issuer": "任盈盈",
        "warnings": [
            "销售方税号 91500106MA2CE71F65 校验位不正确（GB 32100-2015），应为 6",
            "购买方税号 9150010807MGZHI002 含有不允许的字符 IZ（不使用 I O Z S V）",
        ],
    },
    "yooongchun__didi.pdf": {
        "ok": True,
        "error": None,
        "format": "pdf",
        "invoice_type": "normal",
        "is_red": False,
        "number": "23326471",
        "code": "012001800211",
        "issue_date": "2018-09-21",
        "buyer": {"name": "聚光科技（杭州）股份有限公司", "tax_id": "91330000734500338C"},
        "seller": {"name": "滴滴出行科技有限公司", "tax_id": "911201163409833307"},
        "lines": [
            line(
                "*运输服务*客运服务费",
                "734.59",
                "3%",
                "22.04",
                spec="无",
                unit="次",
                quantity="1",
                unit_price="734.59",
            )
        ],
        "total_amount": "734.59",
        "total_tax": "22.04",
        "total": "756.63",
        "total_in_words": "柒佰伍拾陆元陆角叁分",
        "remarks": None,
        "issuer": "牛蕊",
        "warnings": [],
    },
    "yooongchun__91420000722084584J_8cd62e109ec84973b3b39d166e52298c.pdf": {
        "ok": True,
        "error": None,
        "format": "pdf",
        "invoice_type": "normal",
        "is_red": False,
        "number": "11162913",
        "code": "042001700112",
        "issue_date": "2018-03-23",
        "buyer": {"name": "武汉市车城物流有限公司", "tax_id": "914201007483062457"},
        "seller": {"name": "湖北楚天智能交通股份有限公司", "tax_id": "91420000722084584J"},
        # Toll columns (车牌号 鄂AHG248, 类型 货车, 通行日期 20180212) have no place in the schema.
        "lines": [line("*经营租赁*通行费", "184.65", "3%", "5.54")],
        "total_amount": "184.65",
        "total_tax": "5.54",
        "total": "190.19",
        "total_in_words": "壹佰玖拾元零壹角玖分",
        "remarks": "汇总开具",
        "issuer": "曹佳培",
        "warnings": [],
    },
}


def test_every_shared_sample_has_hand_written_truth() -> None:
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(TRUTH)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_sample_reads_to_its_truth(name: str) -> None:
    got = read(SAMPLES / name, source=name, today=TODAY).to_json_dict()
    assert got == {"source": name, **TRUTH[name]}


def test_same_sample_from_bytes_with_a_wrong_extension_reads_the_same() -> None:
    data = (SAMPLES / "ofdrw__20240531141733_shudian.ofd").read_bytes()
    got = read(data, source="invoice.pdf", today=TODAY).to_json_dict()
    assert got["number"] == "24112000000048542163" and got["format"] == "ofd" and got["ok"]
