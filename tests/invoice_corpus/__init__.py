"""Test invoices built in code: known data rendered as text PDF, OFD, XML, scan and phone photo."""
