// The page's widget manager: @jupyter-widgets/base-manager over one kernel connection
// (@jupyterlab/services), the way JupyterLab's and Voila's managers work, minus
// everything a single app page does not use.
import { shims, type IClassicComm, type WidgetModel, type WidgetView } from "@jupyter-widgets/base";
import { ManagerBase } from "@jupyter-widgets/base-manager";
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import type { JSONObject } from "@lumino/coreutils";
import { Widget } from "@lumino/widgets";
import { loadWidgetClass } from "./widget_classes";

export class PageWidgetManager extends ManagerBase {
  /** Widget comms the kernel opened while the notebook was still running: the page
   *  connects early, so it may see a widget's comm open but not its child's (opened a
   *  moment before). Their models are built from one fresh `request_states` instead. */
  private readonly early = new Map<string, { comm: IClassicComm; msg: KernelMessage.ICommOpenMsg }>();
  private loaded = false;

  constructor(private readonly kernel: Kernel.IKernelConnection) {
    super();
    kernel.registerCommTarget(this.comm_target_name, (comm, msg) => {
      const shim = new shims.services.Comm(comm);
      if (this.loaded) void this.handle_comm_open(shim, msg);
      else this.early.set(comm.commId, { comm: shim, msg });
    });
  }

  /** Build every widget the kernel has (one round trip); call once the notebook ran. */
  async loadFromKernel(): Promise<void> {
    await this._loadFromKernel();
    this.loaded = true;
    // Opened after the states were asked for: their comm_open message has the state.
    for (const { comm, msg } of this.early.values()) await this.handle_comm_open(comm, msg);
    this.early.clear();
  }

  /** Build the view of `modelId` and attach it into `host`. */
  async renderInto(modelId: string, host: HTMLElement): Promise<WidgetView> {
    const model: WidgetModel = await this.get_model(modelId);
    const view = await this.create_view(model);
    Widget.attach(view.luminoWidget, host);
    return view;
  }

  protected loadClass(className: string, moduleName: string, moduleVersion: string) {
    return loadWidgetClass(className, moduleName, moduleVersion);
  }

  protected async _create_comm(
    targetName: string,
    modelId?: string,
    data?: JSONObject,
    metadata?: JSONObject,
    buffers?: ArrayBuffer[] | ArrayBufferView[],
  ): Promise<IClassicComm> {
    const opened = modelId === undefined ? undefined : this.early.get(modelId);
    if (opened) {
      this.early.delete(modelId as string);
      return opened.comm;
    }
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) comm.open(data ?? {}, metadata, buffers);
    return new shims.services.Comm(comm);
  }

  protected async _get_comm_info(): Promise<Record<string, unknown>> {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === "ok" ? reply.content.comms : {};
  }
}
