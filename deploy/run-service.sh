#!/bin/sh
# Runs one Demeu process in the foreground: the one mapping from a name to its Nameko
# config and class, used by supervisord (make up), the container image and Kubernetes.
#   deploy/run-service.sh campaigns|payments|notifications|talent|gateway|migrate
set -eu
cd "$(dirname "$0")/.."
nameko="${NAMEKO:-nameko}"
case "${1:-}" in
    campaigns)     exec "$nameko" run --config services/campaigns/config.yaml campaigns.service:CampaignsService ;;
    payments)      exec "$nameko" run --config services/payments/config.yaml payments.service:PaymentsService ;;
    notifications) exec "$nameko" run --config services/notifications/config.yaml notifications.service:NotificationsService ;;
    talent)        exec "$nameko" run --config services/talent/config.yaml talent.service:TalentService ;;
    gateway)       exec "$nameko" run --config gateway/config.yaml gateway.service:GatewayService ;;
    # One-shot: create/migrate the databases (all of them, or those named after it).
    migrate)       shift
                   [ $# -gt 0 ] || set -- campaigns payments notifications talent
                   exec "${DEMEU_MIGRATE:-demeu-migrate}" "$@" ;;
    *) echo "usage: $0 campaigns|payments|notifications|talent|gateway|migrate [services...]" >&2; exit 2 ;;
esac
