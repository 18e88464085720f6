/* pht_station_catalog.c — HealthDCAT-AP catalogue of a station: the JSON-LD document built from the config. */
#include "pht_station_catalog.h"
#include "pht_dataset.h"
#include "pht_err.h"
#include "pht_json.h"
#include "pht_station_config.h"
#include "pht_station_optout.h"

#include <string.h>

#define NS_HEALTH "http://healthdataportal.eu/ns/health#"
#define ACCESS_RIGHTS "http://publications.europa.eu/resource/authority/access-right/"
#define ELI_GDPR "http://data.europa.eu/eli/reg/2016/679/oj"
#define ELI_EHDS "http://data.europa.eu/eli/reg/2025/327/oj"

unsigned long long
pht_station_catalog_round(unsigned long long n)
{
	return (n + 5) / 10 * 10;
}

static json_t *
context(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "dcat", "http://www.w3.org/ns/dcat#",
	    "dct", "http://purl.org/dc/terms/",
	    "dcatap", "http://data.europa.eu/r5r/",
	    "healthdcatap", NS_HEALTH,
	    "foaf", "http://xmlns.com/foaf/0.1/",
	    "vcard", "http://www.w3.org/2006/vcard/ns#",
	    "csvw", "http://www.w3.org/ns/csvw#",
	    "skos", "http://www.w3.org/2004/02/skos/core#",
	    "xsd", "http://www.w3.org/2001/XMLSchema#");
}

static const char *
xsd_type(enum pht_coltype t)
{
	switch (t) {
	case PHT_COL_NUMBER: return "xsd:decimal";
	case PHT_COL_INTEGER: return "xsd:integer";
	case PHT_COL_DATE: return "xsd:date";
	case PHT_COL_BOOLEAN: return "xsd:boolean";
	case PHT_COL_CATEGORY: return "skos:Concept";
	}
	return "xsd:string";
}

/* Sets key to a copy of the string src[name] when it is there. */
static int
copy_text(json_t *dst, const char *key, const json_t *src, const char *name)
{
	const json_t *v = src != NULL ? json_object_get(src, name) : NULL;

	if (v == NULL)
		return 0;
	return json_object_set_new(dst, key, json_string(json_string_value(v)));
}

/*
 * The columns of ds as a csvw:tableSchema, levels as code lists; the
 * identifier column with csvw:suppressOutput true.
 */
static json_t *
schema(const struct pht_dataset *ds, const char *iri, const json_t *coding)
{
	json_t *cols = json_array(), *col, *scheme, *concepts, *sch = NULL;
	const struct pht_column *c;
	const json_t *cs;
	char id[512];
	size_t i, j;

	if (cols == NULL)
		return NULL;
	for (i = 0; i < pht_dataset_ncols(ds); i++) {
		c = pht_dataset_column(ds, i);
		snprintf(id, sizeof(id), "%s/column/%s", iri, c->name);
		col = json_pack("{s:s, s:s, s:s, s:s}", "@id", id, "@type", "csvw:Column",
		    "csvw:name", c->name, "csvw:datatype", xsd_type(c->type));
		if (col == NULL || json_array_append_new(cols, col) != 0)
			goto fail;
		if (c->description[0] != '\0' && json_object_set_new(col,
		    "dct:description", json_string(c->description)) != 0)
			goto fail;
		if (c->unit[0] != '\0' && json_object_set_new(col, "healthdcatap:unit",
		    json_string(c->unit)) != 0)
			goto fail;
		/* the identifier: listed (name, type), never output, never seen by trains */
		if (c->role == PHT_ROLE_IDENTIFIER && json_object_set_new(col,
		    "csvw:suppressOutput", json_true()) != 0)
			goto fail;
		if ((cs = coding != NULL ? json_object_get(coding, c->name) : NULL) != NULL &&
		    json_object_set_new(col, "healthdcatap:codingSystem", json_pack(
		    "{s:s}", "@id", json_string_value(cs))) != 0)
			goto fail;
		if (c->type != PHT_COL_CATEGORY)
			continue;
		if ((concepts = json_array()) == NULL)
			goto fail;
		for (j = 0; j < c->nlevels; j++) {
			json_t *k = json_pack("{s:s, s:s}", "@type", "skos:Concept",
			    "skos:prefLabel", c->levels[j]);
			if (k == NULL || json_array_append_new(concepts, k) != 0) {
				json_decref(concepts);
				goto fail;
			}
		}
		snprintf(id, sizeof(id), "%s/column/%s/levels", iri, c->name);
		scheme = json_pack("{s:s, s:s, s:o}", "@id", id, "@type",
		    "skos:ConceptScheme", "skos:hasTopConcept", concepts);
		if (scheme == NULL || json_object_set_new(col, "skos:inScheme", scheme) != 0)
			goto fail;
	}
	sch = json_pack("{s:s, s:o}", "@type", "csvw:Schema", "csvw:column", cols);
	return sch;
fail:
	json_decref(cols);
	return NULL;
}

/* Publisher and contact point objects from the catalog section. */
static json_t *
publisher(const json_t *sec, const char *station)
{
	const char *p = json_string_value(json_object_get(sec, "publisher"));

	return json_pack("{s:s, s:s}", "@type", "foaf:Agent", "foaf:name",
	    p != NULL ? p : station);
}

static json_t *
contact(const json_t *sec)
{
	const json_t *c = json_object_get(sec, "contact");
	const char *email = json_string_value(json_object_get(c, "email"));
	char mailto[4200];
	json_t *o;

	if (c == NULL)
		return NULL;
	if ((o = json_pack("{s:s}", "@type", "vcard:Kind")) == NULL)
		return NULL;
	if (copy_text(o, "vcard:fn", c, "name") != 0)
		goto fail;
	if (email != NULL) {
		snprintf(mailto, sizeof(mailto), "mailto:%s", email);
		if (json_object_set_new(o, "vcard:hasEmail", json_pack("{s:s}", "@id",
		    mailto)) != 0)
			goto fail;
	}
	if (json_object_get(c, "url") != NULL && json_object_set_new(o, "vcard:hasURL",
	    json_pack("{s:s}", "@id", json_string_value(json_object_get(c, "url")))) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
legislation(const json_t *sec)
{
	const json_t *l = json_object_get(sec, "legislation");
	json_t *arr = json_array(), *v;
	size_t i;

	if (arr == NULL)
		return NULL;
	if (l == NULL) {
		if (json_array_append_new(arr, json_pack("{s:s}", "@id", ELI_GDPR)) != 0 ||
		    json_array_append_new(arr, json_pack("{s:s}", "@id", ELI_EHDS)) != 0)
			goto fail;
		return arr;
	}
	json_array_foreach(l, i, v)
		if (json_array_append_new(arr, json_pack("{s:s}", "@id",
		    json_string_value(v))) != 0)
			goto fail;
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *
keywords(const json_t *a, const json_t *b)
{
	json_t *arr = json_array(), *v;
	size_t i;

	if (arr == NULL)
		return NULL;
	if (a != NULL)
		json_array_foreach(a, i, v)
			json_array_append_new(arr, json_string(json_string_value(v)));
	if (b != NULL)
		json_array_foreach(b, i, v)
			json_array_append_new(arr, json_string(json_string_value(v)));
	return arr;
}

static const char *
access_uri(const json_t *sec)
{
	const char *a = json_string_value(json_object_get(sec, "access_rights"));

	if (a != NULL && strcmp(a, "public") == 0)
		return ACCESS_RIGHTS "PUBLIC";
	if (a != NULL && strcmp(a, "restricted") == 0)
		return ACCESS_RIGHTS "RESTRICTED";
	return ACCESS_RIGHTS "NON_PUBLIC";
}

/* One dcat:Dataset. */
static int
dataset_entry(const struct pht_station_config *cfg, const json_t *sec,
    const struct pht_station_dataset *d, json_t **out, struct pht_err *err)
{
	const char *sid = pht_station_config_id(cfg);
	const json_t *dsec = json_object_get(json_object_get(sec, "datasets"), d->name);
	struct pht_dataset *ds = NULL;
	json_t *e = NULL, *s;
	char iri[256], title[256];
	int r;

	*out = NULL;
	if ((r = pht_station_dataset_load(d, &ds, NULL, err)) != PHT_OK) {
		pht_err_prefix(err, "dataset %s", d->name);
		return r;
	}
	snprintf(iri, sizeof(iri), "urn:pht:station:%s:dataset:%s", sid, d->name);
	snprintf(title, sizeof(title), "%s at station %s", pht_dataset_name(ds), sid);
	e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:{s:s}, s:o, s:o, s:o}",
	    "@id", iri, "@type", "dcat:Dataset", "dct:identifier", d->name,
	    "dct:title", title,
	    "healthdcatap:numberOfRecords",
	    (json_int_t)pht_station_catalog_round(pht_dataset_nrows(ds)),
	    "dct:publisher", publisher(sec, sid),
	    "dct:accessRights", "@id", access_uri(sec),
	    "dcatap:applicableLegislation", legislation(sec),
	    "dcat:keyword", keywords(json_object_get(sec, "keywords"),
	    json_object_get(dsec, "keywords")),
	    "csvw:tableSchema", schema(ds, iri, json_object_get(dsec, "coding")));
	if (e == NULL)
		goto nomem;
	if (copy_text(e, "dct:title", dsec, "title") != 0)
		goto nomem;
	if (json_object_get(dsec, "description") != NULL) {
		if (copy_text(e, "dct:description", dsec, "description") != 0)
			goto nomem;
	} else {
		const char *desc = json_string_value(json_object_get(pht_dataset_dict(ds),
		    "description"));
		if (desc != NULL && desc[0] != '\0' && json_object_set_new(e,
		    "dct:description", json_string(desc)) != 0)
			goto nomem;
	}
	if ((s = contact(sec)) != NULL && json_object_set_new(e, "dcat:contactPoint",
	    s) != 0)
		goto nomem;
	*out = e;
	pht_dataset_free(ds);
	return PHT_OK;
nomem:
	json_decref(e);
	pht_dataset_free(ds);
	return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
}

int
pht_station_catalog_build(const struct pht_station_config *cfg, json_t **out,
    struct pht_err *err)
{
	const json_t *sec = pht_station_config_catalog(cfg);
	const struct pht_station_node *node = pht_station_config_node(cfg);
	const char *sid = pht_station_config_id(cfg);
	json_t *cat = NULL, *dsets = NULL, *served = NULL, *svc = NULL, *e;
	char iri[256], svc_iri[300], title[256];
	size_t i;
	int r = PHT_ERR_NOMEM;

	*out = NULL;
	snprintf(iri, sizeof(iri), "urn:pht:station:%s", sid);
	snprintf(title, sizeof(title), "Datasets of PHT station %s", sid);
	if ((dsets = json_array()) == NULL || (served = json_array()) == NULL)
		goto out;
	for (i = 0; i < pht_station_config_ndatasets(cfg); i++) {
		const struct pht_station_dataset *d = pht_station_config_dataset(cfg, i);
		if ((r = dataset_entry(cfg, sec, d, &e, err)) != PHT_OK)
			goto out;
		r = PHT_ERR_NOMEM;
		if (json_array_append_new(dsets, e) != 0 ||
		    json_array_append_new(served, json_pack("{s:s}", "@id",
		    json_string_value(json_object_get(e, "@id")))) != 0)
			goto out;
	}
	snprintf(svc_iri, sizeof(svc_iri), "%s:service", iri);
	snprintf(title, sizeof(title), "PHT station %s (Personal Health Train)", sid);
	svc = json_pack("{s:s, s:s, s:s, s:O, s:{s:s}}", "@id", svc_iri, "@type",
	    "dcat:DataService", "dct:title", title, "dcat:servesDataset", served,
	    "dct:conformsTo", "@id", "urn:pht:protocol:node:v1");
	if (svc == NULL)
		goto out;
	if (node->url != NULL && json_object_set_new(svc, "dcat:endpointURL",
	    json_pack("{s:s}", "@id", node->url)) != 0)
		goto out;
	snprintf(title, sizeof(title), "Datasets of PHT station %s", sid);
	cat = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:O, s:[O]}",
	    "@context", context(), "@id", iri, "@type", "dcat:Catalog",
	    "dct:identifier", sid, "dct:title", title,
	    "dct:publisher", publisher(sec, sid), "dcat:dataset", dsets,
	    "dcat:service", svc);
	if (cat == NULL || copy_text(cat, "dct:title", sec, "title") != 0 ||
	    copy_text(cat, "dct:description", sec, "description") != 0)
		goto out;
	*out = cat;
	cat = NULL; /* transferred */
	r = PHT_OK;
out:
	if (r == PHT_ERR_NOMEM)
		pht_errf(err, r, "out of memory");
	json_decref(cat);
	json_decref(dsets);
	json_decref(served);
	json_decref(svc);
	return r;
}
