#!/usr/bin/env python3
"""Builds stranger-shaped archive messages: the public 2026 social welfare sample
(Warc0ck/SH-Kanta-validator, in ../shared/interop/social/) used as a template, with only OIDs,
ids, times, the client, custodian/organiser and the signature replaced, signed by xmlsec1. The
R6 row is the public HUS patient-archive sample (../shared/interop/RCMR_IN100002FI01.xml) as is.

An independent client: it shares no code with Kantakoe's builder (harness/src/compose.rs) or
signer. Standard library only, plus the `xmlsec1` program.

usage: build.py SAMPLE_DIR PKI_DIR OUT_DIR
  PKI_DIR is a Kantakoe test PKI (<role>.pem, <role>.key.pem).
Writes OUT_DIR/<row>.xml and OUT_DIR/rows.tsv (row, TLS role, content type, file) in sending
order.
"""
import base64
import datetime
import os
import subprocess
import sys

SAMPLE_DOC = "1.2.246.10.32213561.95777.2026.688883.2809773"
SAMPLE_COUNTY = "1.2.246.10.32213561.10.0"
SAMPLE_UNIT = "1.2.246.10.1246109.10.2001213"
SAMPLE_CLIENT = "200111A904P"
SAMPLE_MESSAGE_ID = 'extension="10037140046" root="1.2.246.10.27489432.10.0"'
SAMPLE_CDA_TIME = "20260717130652+0300"
SAMPLE_MESSAGE_TIME = "20260717130654+0300"

# The bundled fixture (testcases/orgs.toml).
PROVIDER, UNIT = "2.999.5851.2.1", "2.999.5851.2.1.1"
COUNTY_A, COUNTY_B = "2.999.5851.2.2", "2.999.5851.2.3"
COUNTY_A_UNIT = "2.999.5851.2.2.1"
SMALL, SMALL_UNIT = "2.999.5851.2.4", "2.999.5851.2.4.1"
UNLICENSED, KELA = "2.999.5851.2.5", "2.999.5851.2.6"

ID_ATTRS = ["--id-attr:ID", "urn:hl7finland:signatureTimestamp",
            "--id-attr:ID", "urn:hl7-org:v3:nonXMLBody"]
ENVELOPED = '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'


def empty(text, start_tag, end_tag):
    """Empties the content of every start_tag ... end_tag."""
    out, pos = [], 0
    while True:
        i = text.find(start_tag, pos)
        if i < 0:
            return "".join(out) + text[pos:]
        out.append(text[pos:i + len(start_tag)])
        pos = text.index(end_tag, i)


def signed_cda(sample, row, pki, work):
    text = open(os.path.join(sample, "Asiakkuusasiakirja_S.as-signed.xml"), encoding="utf-8").read()
    text = text.replace(SAMPLE_DOC, row["doc"]).replace(SAMPLE_CLIENT, row["client"])
    text = text.replace(SAMPLE_UNIT, row["unit"]).replace(SAMPLE_CDA_TIME, row["time"])
    # In the sample, custodian and organiser are the same county: set each on its own.
    text = text.replace('<representedCustodianOrganization>\n\t\t\t\t<id root="%s"/>' % SAMPLE_COUNTY,
                        '<representedCustodianOrganization>\n\t\t\t\t<id root="%s"/>' % row["custodian"])
    if row["organiser"] is None:
        start = text.index("<ep2:outsourcingServiceCustomer ")
        end = text.index("</ep2:outsourcingServiceCustomerName>") + len("</ep2:outsourcingServiceCustomerName>")
        text = text[:start] + text[end:]
    else:
        text = text.replace('<ep2:outsourcingServiceCustomer root="%s"/>' % SAMPLE_COUNTY,
                            '<ep2:outsourcingServiceCustomer root="%s"/>' % row["organiser"])
    if row.get("replaces"):
        parent, version, _ = row["replaces"]
        text = text.replace('<setId root="%s"/>' % row["doc"], '<setId root="%s"/>' % row["set"])
        text = text.replace('<versionNumber value="1"/>', '<versionNumber value="%d"/>' % (version + 1))
        text = text.replace("\t<authorization>", '\t<relatedDocument typeCode="RPLC"><parentDocument><id root="%s"/>'
                            '<setId root="%s"/><versionNumber value="%d"/></parentDocument></relatedDocument>\n'
                            '\t<authorization>' % (parent, row["set"], version), 1)
    start = text.index('<signatureTimestamp ID="CDA-aikaleima.1">') + len('<signatureTimestamp ID="CDA-aikaleima.1">')
    text = text[:start] + row["signed_at"] + text[text.index("</signatureTimestamp>"):]
    text = empty(text, "<DigestValue>", "</DigestValue>")
    text = empty(text, "<SignatureValue>", "</SignatureValue>")
    text = text[:text.index("<X509Data>")] + "<X509Data/>" + text[text.index("</X509Data>") + len("</X509Data>"):]
    if row["signer"] == "stranger-signature":
        # That certificate's key is ECDSA P-256 (DESIGN §3.4 accepts ECDSA).
        text = text.replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")
    if row["transforms"] == "exc-c14n":
        assert ENVELOPED in text
        text = text.replace(ENVELOPED, "")
    template = os.path.join(work, row["name"] + ".cda-template.xml")
    with open(template, "w", encoding="utf-8") as f:
        f.write(text)
    key = os.path.join(pki, row["signer"] + ".key.pem")
    cert = os.path.join(pki, row["signer"] + ".pem")
    out = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", key + "," + cert] + ID_ATTRS + [template],
                         capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit("xmlsec1 --sign failed for %s: %s" % (row["name"], out.stderr.decode()))
    return out.stdout


def mime(doc, cda):
    boundary = "----=_Part_stranger_" + doc
    return ("MIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"%s\"\n\n--%s\n"
            "Content-Type: text/xml; charset=UTF-8\nContent-Transfer-Encoding: base64\n"
            "Content-ID: <%s>\n\n%s--%s--\n"
            % (boundary, boundary, doc, base64.encodebytes(cda).decode(), boundary))


def message(sample, row, cda):
    text = open(os.path.join(sample, "Asiakkuusasiakirja_K.xml"), encoding="utf-8").read()
    text = text.replace(SAMPLE_MESSAGE_ID, 'extension="%s" root="2.999.5851.9.77"' % row["name"])
    text = text.replace(SAMPLE_MESSAGE_TIME, row["time"]).replace(SAMPLE_CDA_TIME, row["time"])
    text = text.replace('<id root="%s" />\n\t\t</device>\n\t</sender>' % SAMPLE_COUNTY,
                        '<id root="%s" />\n\t\t</device>\n\t</sender>' % row["sender"])
    text = text.replace(SAMPLE_UNIT, row["unit"]).replace(SAMPLE_DOC, row["doc"])
    text = text.replace(SAMPLE_CLIENT, row["client"])
    text = text.replace('<id root="%s" />\n\t\t\t\t\t\t</representedOrganization>' % SAMPLE_COUNTY,
                        '<id root="%s" />\n\t\t\t\t\t\t</representedOrganization>' % row["custodian"])
    if row["usage"] != "1":
        text = text.replace('<reasonCode code="1" codeSystem="1.2.246.537.6.1289.201901"',
                            '<reasonCode code="%s" codeSystem="1.2.246.537.6.1289.201901"' % row["usage"])
    if row.get("replaces"):
        parent, version, reason = row["replaces"]
        text = text.replace("RCMR_IN200002FI01", "RCMR_IN200016FI01")
        text = text.replace('code="RCMR_TE000102UV01"', 'code="RCMR_TE000910UV01"')
        text = text.replace('<setId root="%s" />' % row["doc"], '<setId root="%s" />' % row["set"])
        text = text.replace('<versionNumber value="1" />', '<versionNumber value="%d" />' % (version + 1))
        text = text.replace('<statusCode code="COMPLETED" />', '<statusCode code="COMPLETED" />\n\t\t\t\t'
                            '<reasonCode code="%s" codeSystem="1.2.246.537.5.40178.2008" />' % reason)
        text = text.replace("</custodian>", '</custodian>\n\t\t\t\t<relatedDocument typeCode="RPLC"><parentDocument>'
                            '<id root="%s" /><setId root="%s" /><versionNumber value="%d" /></parentDocument>'
                            '</relatedDocument>' % (parent, row["set"], version))
    start = text.index("<mimeEncode>")
    end = text.index("</mimeEncode>") + len("</mimeEncode>")
    part = mime(row["doc"], cda).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text[:start] + part + text[end:]


def envelope(hl7, wrapping, header_id):
    if wrapping == "bare":
        return hl7, "application/xml"
    if wrapping == "soap11":
        return ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
                '<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:uuid:%s</wsa:MessageID>'
                '</soap:Header><soap:Body>%s</soap:Body></soap:Envelope>' % (header_id, hl7), "text/xml; charset=utf-8")
    return ('<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>%s</env:Body></env:Envelope>' % hl7,
            "application/soap+xml; charset=utf-8")


def rows(signed_at):
    def row(name, client, custodian, organiser, usage, **kw):
        r = dict(name=name, client=client, custodian=custodian, organiser=organiser, usage=usage,
                 sender=PROVIDER, unit=UNIT, tls="client", signer="signature", transforms="enveloped",
                 wrapping="soap11", time="20260301100000+0200", signed_at=signed_at)
        r.update(kw)
        r["doc"] = "2.999.5851.9.78.%d" % (len(ALL) + 1)
        ALL.append(r)
    ALL = []
    # DESIGN §2, one row each, in the table's order.
    row("r1-self-paying-own-register", "010190-901R", PROVIDER, PROVIDER, "1")
    row("r1-organiser-omitted", "010190-901R", PROVIDER, None, "1", wrapping="soap12")
    row("r3-no-own-register", "070707A9077", SMALL, SMALL, "1", sender=SMALL, unit=SMALL_UNIT,
        tls="stranger-client", signer="stranger-signature", wrapping="bare")
    row("r1-self-paying-into-county", "010190-901R", COUNTY_A, COUNTY_A, "2")
    row("r2-purchased-service-usage-right", "150575-9025", COUNTY_A, COUNTY_A, "2")
    row("r2-voucher-usage-right", "030312A903K", COUNTY_A, COUNTY_A, "2", wrapping="bare")
    row("r2-no-usage-right", "241180-9045", COUNTY_B, COUNTY_B, "2")
    row("r2-usage-right-expired", "030312A903K", COUNTY_A, COUNTY_A, "2", time="20280105100000+0200")
    row("r2-into-providers-register", "150575-9025", PROVIDER, PROVIDER, "1", wrapping="soap12")
    row("organiser-not-custodian", "010190-901R", PROVIDER, COUNTY_A, "1")
    row("organiser-omitted-purchased-service", "150575-9025", COUNTY_A, None, "2")
    row("no-relationship", "120960-905N", PROVIDER, PROVIDER, "1")
    row("r5-kela-custodian", "010190-901R", KELA, KELA, "2")
    row("r4-unlicensed-custodian", "010190-901R", UNLICENSED, UNLICENSED, "2")
    row("r7-outside-kanta", "111111-9116", PROVIDER, PROVIDER, "1", wrapping="soap12")
    # The county's own client (usage situation own use): the public sample's own shape, sent
    # and signed by the county's own system.
    row("own-client-county-own-register", "150915A931U", COUNTY_A, COUNTY_A, "1", sender=COUNTY_A,
        unit=COUNTY_A_UNIT, tls="county-client", signer="county-signature")
    row("own-client-into-providers-register", "150915A931U", PROVIDER, PROVIDER, "1")
    # Beyond the table.
    row("vendor-for-unregistered-provider", "280201A9065", COUNTY_A, COUNTY_A, "2", sender=SMALL,
        unit=SMALL_UNIT, tls="vendor", signer="stranger-signature")
    # A correction (version 2, reason 1) and an invalidation (version 3, reason 2) of the
    # first row's document.
    first = ALL[0]["doc"]
    row("correction-of-a-stranger-document", "010190-901R", PROVIDER, PROVIDER, "1", set=first,
        replaces=(first, 1, "1"))
    row("invalidation-of-a-stranger-document", "010190-901R", PROVIDER, PROVIDER, "1", set=first,
        replaces=(ALL[-1]["doc"], 2, "2"), wrapping="bare")
    row("new-version-of-the-invalidated-set", "010190-901R", PROVIDER, PROVIDER, "1", set=first,
        replaces=(ALL[-1]["doc"], 3, "1"))
    # R6: a patient data repository store (the public HUS sample, its localHeader and all), sent
    # to the social welfare repository.
    row("r6-patient-archive-interaction", "010190-901R", PROVIDER, PROVIDER, "1", patient=True)
    row("transforms-exc-c14n-alone", "010190-901R", PROVIDER, PROVIDER, "1", transforms="exc-c14n",
        wrapping="bare")
    return ALL


def main():
    sample, pki, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    signed_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    index = []
    first = None
    for n, row in enumerate(rows(signed_at)):
        if row.get("patient"):
            hl7 = open(os.path.join(sample, "..", "RCMR_IN100002FI01.xml"), encoding="utf-8").read()
        else:
            hl7 = message(sample, row, signed_cda(sample, row, pki, out))
        body, content_type = envelope(hl7, row["wrapping"], "00000000-0000-4000-8000-%012d" % n)
        path = os.path.join(out, row["name"] + ".xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        index.append((row["name"], row["tls"], content_type, path))
        if first is None:
            first = (row, hl7)
    # The first message again, bare and in SOAP 1.2: the same HL7 message in other envelopes.
    for wrapping in ("bare", "soap12"):
        body, content_type = envelope(first[1], wrapping, "")
        path = os.path.join(out, "resend-%s.xml" % wrapping)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        index.append(("resend-of-%s-%s" % (first[0]["name"], wrapping), "client", content_type, path))
    with open(os.path.join(out, "rows.tsv"), "w", encoding="utf-8") as f:
        for line in index:
            f.write("\t".join(line) + "\n")


if __name__ == "__main__":
    main()
