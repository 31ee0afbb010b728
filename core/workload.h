/*
 * Workloads as pod templates.
 *
 * A Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or
 * ReplicationController is compiled into a template pod
 * (snapshot.workloads): a struct np_pod with the template's labels, container
 * ports and hostNetwork, no IP, and workload_kind set. The evaluator takes it
 * like any pod, so "can this Deployment reach that one" is answered for any
 * pod its template would create. Policies select template pods of their own
 * namespace by podSelector on the template's labels, as they would select the
 * pods; ipBlock peers never match a template pod (it has no address).
 *
 * Pods are linked to the uploaded workload their metadata.ownerReferences
 * name, one level further from a ReplicaSet to its Deployment and from a Job
 * to its CronJob when those are uploaded too.
 *
 * Not modelled: labels the controllers put on each pod (pod-template-hash,
 * controller-revision-hash, statefulset.kubernetes.io/pod-name), which
 * differ from pod to pod. A Job's template does get the job-name labels the
 * API server adds when it creates a Job without spec.manualSelector.
 */
#ifndef NP_WORKLOAD_H
#define NP_WORKLOAD_H

#include <stdbool.h>

#include "core/snapshot.h"

/* The seven kinds as Kubernetes spells them, NULL-terminated. */
extern const char *const np_workload_kinds[];

/* Returns true when kind is one of np_workload_kinds (case-sensitive, as in
 * Kubernetes). */
bool np_workload_kind_is_valid(const char *kind);

/* "Deployment, ReplicaSet, ... or ReplicationController", for messages. */
const char *np_workload_kinds_text(void);

/* The apiVersion netpolq reads kind at: "apps/v1", "batch/v1" or "v1"; NULL
 * when kind is not a workload kind. */
const char *np_workload_api_version(const char *kind);

/* The path of the pod template in an object of kind: "spec.template", or
 * "spec.jobTemplate.spec.template" for a CronJob. */
const char *np_workload_template_path(const char *kind);

/* The information of a template pod (borrowed from snap), or NULL when pod is
 * not one of snap's workloads. */
const struct np_workload *np_workload_info(const struct np_snapshot *snap,
                                           const struct np_pod *pod);

#endif
