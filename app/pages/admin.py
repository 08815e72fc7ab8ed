"""Admin: the organisation tree and people, CSV import/export, privacy thresholds, the pulse
composition and the audit log. Every action goes through a service that checks the admin role."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics.privacy import FLOOR_MIN_COMMENT_GROUP_SIZE, FLOOR_MIN_GROUP_SIZE, PrivacyRules
from analytics.privacy.rules import POOLING_PERIODS
from app import language, ui
from app.components import reminder_settings
from app.i18n import _
from models import admin
from models.access import AccessDenied, Viewer
from models.base import iso_week
from models.db import read_session, write_session
from models.org_csv import OrgImportError
from models.org_settings import get_org_setting, next_week
from surveys.composition import available_compositions
from surveys.submit import COMPOSITION_SETTING, composition_for, set_pulse_composition


def _choose_organisation(viewer: Viewer) -> tuple[int, str] | None:
    with read_session(ui.engine()) as session:
        roots = [(unit.id, unit.name) for unit in admin.organisations(session, viewer)]
    if not roots:
        return None
    if len(roots) == 1:
        return roots[0]
    names = {name: unit_id for unit_id, name in roots}
    chosen = st.selectbox(_("Organisation"), list(names), key="admin_organisation")
    return names[chosen], chosen


def _organisation_tab(viewer: Viewer) -> None:
    with read_session(ui.engine()) as session:
        tree = pd.DataFrame(admin.unit_tree(session, viewer))
        people = pd.DataFrame(admin.people_rows(session, viewer))
    st.subheader(_("Units"))
    st.caption(_("Kinds follow the tree: root = organisation, a unit with nothing below it = team."))
    st.dataframe(tree, hide_index=True, width="stretch")
    st.subheader(_("People ({count})").format(count=len(people)))
    st.dataframe(people, hide_index=True, width="stretch")


def _import_tab(viewer: Viewer) -> None:
    st.write(
        _(
            "One CSV with the columns `type,code,name,parent,roles` (see the README). The whole file is "
            "checked first: if any row is wrong nothing changes and every problem is listed by line."
        )
    )
    upload = st.file_uploader(_("Organisation CSV"), type=["csv"], key="org_csv_upload")
    if st.button(_("Import"), type="primary", disabled=upload is None):
        data = upload.getvalue()  # type: ignore[union-attr]  (checked as UTF-8, line by line)
        try:
            with write_session(ui.engine()) as session:
                summary = admin.import_org_csv(session, viewer, data)
        except OrgImportError as error:
            st.error(_("{count} problem(s) found. Nothing was changed.").format(count=len(error.errors)))
            st.dataframe(
                pd.DataFrame([{"line": e.line, "problem": e.message} for e in error.errors]),
                hide_index=True,
                width="stretch",
            )
            return
        st.success(_("Imported: {summary}.").format(summary=summary))

    st.subheader(_("Export"))
    if st.button(_("Prepare organisation CSV"), key="prepare_export"):
        with write_session(ui.engine()) as session:
            exported = admin.export_org_csv(session, viewer)
        st.download_button(
            _("Download organisation CSV"),
            data=exported,
            file_name="organisation.csv",
            mime="text/csv",
            on_click="ignore",
        )


def _privacy_tab(viewer: Viewer, organisation_id: int) -> None:
    settings = ui.settings()
    defaults = {
        "min_group_size": settings.min_group_size,
        "min_comment_group_size": settings.min_comment_group_size,
        "pooling_period": settings.pooling_period,
    }
    today = date.today()
    this_week = iso_week(today)
    with read_session(ui.engine()) as session:
        in_force = admin.settings_in_force(
            session,
            organisation_id=organisation_id,
            keys=admin.PRIVACY_KEYS,
            week=this_week,
            defaults=defaults,
        )
        upcoming = admin.settings_in_force(
            session,
            organisation_id=organisation_id,
            keys=admin.PRIVACY_KEYS,
            week=next_week(this_week),
            defaults=defaults,
        )
        pending = admin.pending_changes(
            session, organisation_id=organisation_id, keys=admin.PRIVACY_KEYS, today=today
        )
    st.write(
        _(
            "In force this week ({week}): at least **{k}** people behind any figure, "
            "**{k_comments}** behind any comment, small teams pooled into their **{period}**. "
            "Changes apply from next week (a period released later uses the strictest value in "
            "force in any of its weeks) and are audited. The floors ({floor} and {floor_comments}) "
            "cannot be lowered."
        ).format(
            week=this_week,
            k=in_force["min_group_size"],
            k_comments=in_force["min_comment_group_size"],
            period=_(in_force["pooling_period"]),
            floor=FLOOR_MIN_GROUP_SIZE,
            floor_comments=FLOOR_MIN_COMMENT_GROUP_SIZE,
        )
    )
    if pending:
        st.info(_("Scheduled changes (not yet in force):"))
        st.dataframe(pd.DataFrame(pending), hide_index=True)
    with st.form("privacy_thresholds", enter_to_submit=False):
        k = st.number_input(
            _("Fewest people behind any figure"),
            min_value=FLOOR_MIN_GROUP_SIZE,
            max_value=50,
            value=int(upcoming["min_group_size"]),
            step=1,
        )
        comment_k = st.number_input(
            _("Fewest people behind any comment"),
            min_value=FLOOR_MIN_COMMENT_GROUP_SIZE,
            max_value=100,
            value=int(upcoming["min_comment_group_size"]),
            step=1,
        )
        pooling = st.selectbox(
            _("Period a small team is pooled into"),
            list(POOLING_PERIODS),
            index=list(POOLING_PERIODS).index(str(upcoming["pooling_period"]))
            if str(upcoming["pooling_period"]) in POOLING_PERIODS
            else 0,
        )
        submitted = st.form_submit_button(_("Schedule from next week"), type="primary")
    if submitted:
        values = {
            "min_group_size": int(k),
            "min_comment_group_size": int(comment_k),
            "pooling_period": str(pooling),
        }
        try:
            PrivacyRules(**values)  # the floors live in the gate
        except ValueError as error:
            st.error(_("Not saved: {reason}.").format(reason=ui.escape_markdown(error)))
            return
        with write_session(ui.engine()) as session:
            week, changed = admin.schedule_settings(
                session,
                viewer,
                organisation_id=organisation_id,
                values=values,
                in_force=upcoming,
                today=today,
            )
        if changed:
            st.success(
                _("Saved: {settings} change from week {week}.").format(
                    settings=", ".join(changed), week=week
                )
            )
            st.rerun()
        else:
            st.info(_("Nothing changed."))


def _pulse_tab(viewer: Viewer, organisation_id: int) -> None:
    today = date.today()
    this_week = iso_week(today)
    compositions = available_compositions()
    with read_session(ui.engine()) as session:
        current = composition_for(session, organisation_id=organisation_id, week=this_week)
        scheduled = get_org_setting(
            session,
            organisation_id=organisation_id,
            key=COMPOSITION_SETTING,
            week=next_week(this_week),
            default=None,
        )
    st.write(
        _("This week's pulse: **{title}** ({count} questions).").format(
            title=current.title, count=len(current.item_ids)
        )
    )
    if isinstance(scheduled, str) and scheduled != current.id and scheduled in compositions:
        st.info(
            _("From week {week}: {title}.").format(
                week=next_week(this_week), title=compositions[scheduled].title
            )
        )
    titles = {f"{c.title}: {c.description}": cid for cid, c in compositions.items()}
    preferred = scheduled if isinstance(scheduled, str) and scheduled in compositions else current.id
    labels = list(titles)
    chosen_label = st.radio(
        _("Pulse for next week onwards"),
        labels,
        index=list(titles.values()).index(preferred) if preferred in compositions else 0,
        key="admin_composition",
    )
    chosen = titles[chosen_label]
    if st.button(_("Schedule pulse"), key="schedule_pulse"):
        with write_session(ui.engine()) as session:
            week = set_pulse_composition(
                session,
                viewer=viewer,
                organisation_id=organisation_id,
                composition_id=chosen,
                today=today,
            )
        st.success(
            _("From week {week} the pulse is: {title}.").format(
                week=week, title=compositions[chosen].title
            )
        )


def _audit_tab(viewer: Viewer) -> None:
    with read_session(ui.engine()) as session:
        entries = admin.audit_entries(session, viewer, limit=500)
    st.caption(_("The newest 500 entries. Pulse submissions are never logged."))
    st.dataframe(pd.DataFrame(entries), hide_index=True, width="stretch")


def main() -> None:
    st.title(_("Admin"))
    viewer = ui.require_viewer()
    try:
        viewer.require("admin")
    except AccessDenied as error:
        st.error(ui.escape_markdown(error))
        st.stop()
    organisation = _choose_organisation(viewer)
    if organisation is None:
        st.info(_("There is no organisation yet: import one below or run `wellbeing seed-demo`."))
        _import_tab(viewer)
        return
    organisation_id, name = organisation
    st.caption(ui.escape_markdown(name))
    tabs = st.tabs(
        [
            _("Organisation"),
            _("Import and export"),
            _("Privacy thresholds"),
            _("Pulse"),
            _("Audit log"),
            _("Reminders"),
        ]
    )
    with tabs[0]:
        language.organisation_default_control(viewer, organisation_id)
        _organisation_tab(viewer)
    with tabs[1]:
        _import_tab(viewer)
    with tabs[2]:
        _privacy_tab(viewer, organisation_id)
    with tabs[3]:
        _pulse_tab(viewer, organisation_id)
    with tabs[4]:
        _audit_tab(viewer)
    with tabs[5]:
        reminder_settings.render(viewer, organisation_id)


main()
